package io.shoplens.serde.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.IndexedRecord;

/**
 * Writes an Avro value (generic or specific, with Avro's Java logical-type classes) as the
 * canonical JSON that {@code src/test/js/harness.js} reads and writes, so that a value held in Java
 * and one held in JavaScript compare as plain JSON trees.
 *
 * <p>The form is explicit where JSON numbers and strings would be ambiguous or lossy: longs
 * (timestamps included, as their underlying long) are decimal strings, floats and doubles are the
 * lowercase hex of their IEEE-754 bits, bytes and fixed are base64, and a non-null union value is
 * {@code {"<branch>": value}} with the branch's full name or type name (Avro's JSON encoding
 * convention). Map entries keep the map's iteration order, so that the JavaScript serializer writes
 * them in the order the Java serializer does.
 *
 * <p>Limits: decimal, uuid and time-of-day logical types are not used by the contract and are
 * rejected rather than guessed.
 */
final class CanonicalAvroJson {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private CanonicalAvroJson() {}

  /** The canonical JSON of {@code value}, which must be valid for {@code schema}. */
  static JsonNode of(Schema schema, Object value) {
    return write(schema, value, schema.getName());
  }

  private static JsonNode write(Schema schema, Object value, String where) {
    switch (schema.getType()) {
      case NULL:
        require(value == null, where, "null", value);
        return NODES.nullNode();
      case BOOLEAN:
        return NODES.booleanNode(cast(value, Boolean.class, where));
      case INT:
        if (value instanceof LocalDate date && isLogical(schema, LogicalTypes.date())) {
          return NODES.numberNode(Math.toIntExact(date.toEpochDay()));
        }
        return NODES.numberNode(cast(value, Integer.class, where));
      case LONG:
        return NODES.textNode(Long.toString(longValue(schema, value, where)));
      case FLOAT:
        return NODES.textNode(
            HexFormat.of().toHexDigits(Float.floatToIntBits(cast(value, Float.class, where))));
      case DOUBLE:
        return NODES.textNode(
            HexFormat.of().toHexDigits(Double.doubleToLongBits(cast(value, Double.class, where))));
      case STRING:
        return NODES.textNode(cast(value, CharSequence.class, where).toString());
      case ENUM:
        return NODES.textNode(value.toString());
      case BYTES:
        {
          ByteBuffer buffer = cast(value, ByteBuffer.class, where).duplicate();
          byte[] bytes = new byte[buffer.remaining()];
          buffer.get(bytes);
          return NODES.textNode(Base64.getEncoder().encodeToString(bytes));
        }
      case FIXED:
        return NODES.textNode(
            Base64.getEncoder().encodeToString(cast(value, GenericFixed.class, where).bytes()));
      case ARRAY:
        {
          ArrayNode array = NODES.arrayNode();
          int i = 0;
          Collection<?> items = cast(value, Collection.class, where);
          for (Object item : items) {
            array.add(write(schema.getElementType(), item, where + "[" + i++ + "]"));
          }
          return array;
        }
      case MAP:
        {
          ObjectNode map = NODES.objectNode();
          Map<?, ?> entries = cast(value, Map.class, where);
          for (Map.Entry<?, ?> e : entries.entrySet()) {
            String key = e.getKey().toString();
            map.set(key, write(schema.getValueType(), e.getValue(), where + "." + key));
          }
          return map;
        }
      case RECORD:
        {
          IndexedRecord record = cast(value, IndexedRecord.class, where);
          require(
              record.getSchema().getFullName().equals(schema.getFullName()),
              where,
              schema.getFullName(),
              record.getSchema().getFullName());
          ObjectNode object = NODES.objectNode();
          for (Schema.Field field : schema.getFields()) {
            object.set(
                field.name(),
                write(field.schema(), record.get(field.pos()), where + "." + field.name()));
          }
          return object;
        }
      case UNION:
        {
          if (value == null) {
            require(schema.getIndexNamed("null") != null, where, "a non-null value", null);
            return NODES.nullNode();
          }
          Schema branch = branchOf(schema, value, where);
          ObjectNode wrapped = NODES.objectNode();
          wrapped.set(
              branchName(branch), write(branch, value, where + "<" + branchName(branch) + ">"));
          return wrapped;
        }
    }
    throw new IllegalArgumentException(where + ": unsupported schema type " + schema.getType());
  }

  /** The name a union branch goes by in Avro's JSON encoding (and in avsc's wrapped unions). */
  static String branchName(Schema branch) {
    return switch (branch.getType()) {
      case RECORD, ENUM, FIXED -> branch.getFullName();
      default -> branch.getType().getName();
    };
  }

  private static Schema branchOf(Schema union, Object value, String where) {
    for (Schema branch : union.getTypes()) {
      if (fits(branch, value)) {
        return branch;
      }
    }
    throw new IllegalArgumentException(
        where
            + ": a "
            + value.getClass().getName()
            + " fits no branch of "
            + union.getTypes().stream().map(CanonicalAvroJson::branchName).toList());
  }

  private static boolean fits(Schema branch, Object value) {
    return switch (branch.getType()) {
      case NULL -> false;
      case RECORD, ENUM, FIXED ->
          value instanceof GenericContainer c
              && c.getSchema().getFullName().equals(branch.getFullName());
      case BOOLEAN -> value instanceof Boolean;
      case INT -> value instanceof Integer || value instanceof LocalDate;
      case LONG -> value instanceof Long || value instanceof Instant;
      case FLOAT -> value instanceof Float;
      case DOUBLE -> value instanceof Double;
      case STRING -> value instanceof CharSequence;
      case BYTES -> value instanceof ByteBuffer;
      case ARRAY -> value instanceof Collection;
      case MAP -> value instanceof Map;
      case UNION -> throw new IllegalArgumentException("Avro forbids a union inside a union");
    };
  }

  private static long longValue(Schema schema, Object value, String where) {
    if (value instanceof Instant instant) {
      LogicalType logical = schema.getLogicalType();
      if (isLogical(schema, LogicalTypes.timestampMillis())) {
        return instant.toEpochMilli();
      }
      if (isLogical(schema, LogicalTypes.timestampMicros())) {
        return Math.addExact(
            Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000L);
      }
      throw new IllegalArgumentException(
          where + ": an Instant for a long with logical type " + logical);
    }
    return cast(value, Long.class, where);
  }

  private static boolean isLogical(Schema schema, LogicalType expected) {
    LogicalType logical = schema.getLogicalType();
    return logical != null && logical.getName().equals(expected.getName());
  }

  private static <T> T cast(Object value, Class<T> type, String where) {
    require(type.isInstance(value), where, type.getSimpleName(), value);
    return type.cast(value);
  }

  private static void require(boolean ok, String where, String expected, Object actual) {
    if (!ok) {
      throw new IllegalArgumentException(
          where
              + ": expected "
              + expected
              + ", got "
              + (actual == null ? "null" : actual.getClass().getName() + " " + actual));
    }
  }
}
