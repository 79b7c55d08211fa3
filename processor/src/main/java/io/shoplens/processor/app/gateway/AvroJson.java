package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.IndexedRecord;

/**
 * Avro records as the JSON the gateway serves: field names as in the schemas (the README's events
 * table), timestamps as ISO-8601, enums as their symbols. Byte fields (a dead letter's key and
 * value) are left out: they may carry a shopper's image and are of no use to a browser.
 */
final class AvroJson {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private AvroJson() {}

  static ObjectNode record(IndexedRecord record) {
    ObjectNode out = NODES.objectNode();
    for (Schema.Field f : record.getSchema().getFields()) {
      Object v = record.get(f.pos());
      if (!(v instanceof ByteBuffer)) {
        out.set(f.name(), value(v));
      }
    }
    return out;
  }

  private static JsonNode value(Object v) {
    if (v == null) {
      return NODES.nullNode();
    }
    if (v instanceof IndexedRecord r) {
      return record(r);
    }
    if (v instanceof Collection<?> list) {
      ArrayNode out = NODES.arrayNode();
      list.forEach(item -> out.add(value(item)));
      return out;
    }
    if (v instanceof Map<?, ?> map) {
      ObjectNode out = NODES.objectNode();
      map.forEach((k, item) -> out.set(String.valueOf(k), value(item)));
      return out;
    }
    if (v instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (v instanceof Integer i) {
      return NODES.numberNode(i);
    }
    if (v instanceof Long l) {
      return NODES.numberNode(l);
    }
    if (v instanceof Float f) {
      return NODES.numberNode(f);
    }
    if (v instanceof Double d) {
      return NODES.numberNode(d);
    }
    if (v instanceof Instant t) {
      return NODES.textNode(t.toString());
    }
    if (v instanceof ByteBuffer || v instanceof GenericContainer && !(v instanceof Enum<?>)) {
      return NODES.nullNode();
    }
    // Strings (Utf8 or String) and enums.
    return NODES.textNode(String.valueOf(v));
  }
}
