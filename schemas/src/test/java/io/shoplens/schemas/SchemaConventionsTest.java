package io.shoplens.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificData;
import org.junit.jupiter.api.Test;

/** The rules every event schema follows (see schemas/README.md), checked on the source schemas. */
class SchemaConventionsTest {

  /** Every named type reachable from the contract's events, by full name. */
  private static Map<String, Schema> namedTypes() {
    Map<String, Schema> named = new LinkedHashMap<>();
    for (String event : EventContract.EVENTS.keySet()) {
      collect(EventContract.currentSchema(event), named);
    }
    return named;
  }

  private static void collect(Schema schema, Map<String, Schema> named) {
    switch (schema.getType()) {
      case RECORD -> {
        if (named.putIfAbsent(schema.getFullName(), schema) == null) {
          schema.getFields().forEach(f -> collect(f.schema(), named));
        }
      }
      case ENUM, FIXED -> named.putIfAbsent(schema.getFullName(), schema);
      case UNION -> schema.getTypes().forEach(t -> collect(t, named));
      case ARRAY -> collect(schema.getElementType(), named);
      case MAP -> collect(schema.getValueType(), named);
      default -> {}
    }
  }

  private static List<Schema.Field> allFields() {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema type : namedTypes().values()) {
      if (type.getType() == Schema.Type.RECORD) {
        fields.addAll(type.getFields());
      }
    }
    return fields;
  }

  private static String where(Schema record, Schema.Field field) {
    return record.getFullName() + "." + field.name();
  }

  @Test
  void shouldDocumentEveryFieldAndEveryNamedType() {
    // Given every named type of the contract
    List<String> undocumented = new ArrayList<>();

    // When looking for missing or blank docs
    for (Schema type : namedTypes().values()) {
      if (type.getDoc() == null || type.getDoc().isBlank()) {
        undocumented.add(type.getFullName());
      }
      if (type.getType() == Schema.Type.RECORD) {
        for (Schema.Field field : type.getFields()) {
          if (field.doc() == null || field.doc().isBlank()) {
            undocumented.add(where(type, field));
          }
        }
      }
    }

    // Then there are none
    assertThat(undocumented).as("types and fields without a doc").isEmpty();
  }

  @Test
  void shouldDeclareOptionalFieldsAsNullFirstUnionsWithNullDefault() {
    List<String> violations = new ArrayList<>();
    for (Schema type : namedTypes().values()) {
      if (type.getType() != Schema.Type.RECORD) {
        continue;
      }
      for (Schema.Field field : type.getFields()) {
        Schema schema = field.schema();
        if (schema.getType() == Schema.Type.UNION && schema.isNullable()) {
          if (schema.getTypes().size() != 2
              || schema.getTypes().get(0).getType() != Schema.Type.NULL
              || field.defaultVal() != JsonProperties.NULL_VALUE) {
            violations.add(where(type, field) + " " + schema + " default " + field.defaultVal());
          }
        }
      }
    }
    assertThat(violations)
        .as("optional fields not of the form [\"null\", T] default null")
        .isEmpty();
  }

  @Test
  void shouldGiveEveryEnumAnUnknownDefaultSoThatItCanGrow() {
    List<String> violations = new ArrayList<>();
    for (Schema type : namedTypes().values()) {
      if (type.getType() == Schema.Type.ENUM && !"UNKNOWN".equals(type.getEnumDefault())) {
        violations.add(type.getFullName() + " default " + type.getEnumDefault());
      }
    }
    assertThat(namedTypes().values()).anyMatch(t -> t.getType() == Schema.Type.ENUM);
    assertThat(violations).as("enums without the UNKNOWN default symbol").isEmpty();
  }

  @Test
  void shouldUseTimestampMillisForEveryPointInTime() {
    // Given fields whose name says they hold a point in time (uploadedAt, sourceTimestamp, ...)
    List<String> violations = new ArrayList<>();
    List<String> checked = new ArrayList<>();
    for (Schema type : namedTypes().values()) {
      if (type.getType() != Schema.Type.RECORD) {
        continue;
      }
      for (Schema.Field field : type.getFields()) {
        if (!field.name().endsWith("At") && !field.name().endsWith("Timestamp")) {
          continue;
        }
        checked.add(where(type, field));
        Schema schema = field.schema();
        if (schema.isNullable() && schema.getType() == Schema.Type.UNION) {
          schema = schema.getTypes().get(1);
        }
        // Then each is a long with the timestamp-millis logical type
        if (!(schema.getLogicalType() instanceof LogicalTypes.TimestampMillis)) {
          violations.add(where(type, field) + " " + schema);
        }
      }
    }
    assertThat(checked).contains("io.shoplens.events.ImageUploaded.uploadedAt");
    assertThat(violations).isEmpty();
  }

  @Test
  void shouldDefineEveryTypeInTheEventsNamespace() {
    assertThat(namedTypes().values())
        .allSatisfy(t -> assertThat(t.getNamespace()).isEqualTo("io.shoplens.events"));
  }

  @Test
  void shouldGenerateClassesFromTheSourceSchemas() {
    // Given the classes generated by the build and the source schemas these tests check
    for (var event : EventContract.EVENTS.entrySet()) {
      Schema generated = SpecificData.get().getSchema(event.getValue());
      Schema source = EventContract.currentSchema(event.getKey());

      // Then both have the same Parsing Canonical Form (names, types, order; no docs or props)
      assertThat(SchemaNormalization.parsingFingerprint64(generated))
          .as(event.getKey())
          .isEqualTo(SchemaNormalization.parsingFingerprint64(source));
    }
  }
}
