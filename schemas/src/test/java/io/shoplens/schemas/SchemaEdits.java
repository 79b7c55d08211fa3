package io.shoplens.schemas;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.avro.SchemaFormatter;
import org.apache.avro.SchemaParser;

/** Test support: derives edited variants of a schema through its JSON form. */
final class SchemaEdits {

  private static final ObjectMapper JSON = new ObjectMapper();

  private SchemaEdits() {}

  /** Returns {@code schema} after {@code edit} changed its JSON (self-contained) form. */
  static Schema edit(Schema schema, Consumer<ObjectNode> edit) {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree(SchemaFormatter.format("json", schema));
      edit.accept(root);
      return new SchemaParser().parse(JSON.writeValueAsString(root)).mainSchema();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot edit schema " + schema.getFullName(), e);
    }
  }

  /** The field named {@code name} of a record's JSON form. */
  static ObjectNode field(JsonNode record, String name) {
    for (JsonNode field : record.get("fields")) {
      if (field.get("name").asText().equals(name)) {
        return (ObjectNode) field;
      }
    }
    throw new IllegalArgumentException("No field " + name + " in " + record.get("name"));
  }

  /** The non-null branch of a nullable union's JSON form. */
  static ObjectNode nonNullBranch(JsonNode union) {
    for (JsonNode branch : (ArrayNode) union) {
      if (branch.isObject()) {
        return (ObjectNode) branch;
      }
    }
    throw new IllegalArgumentException("No named branch in " + union);
  }
}
