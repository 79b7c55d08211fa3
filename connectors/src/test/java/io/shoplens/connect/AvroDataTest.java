package io.shoplens.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.schemas.SampleEvents;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

/** Every Avro <-> Connect mapping, in both directions, with Confluent's conventions. */
class AvroDataTest {

  private final AvroData avroData = new AvroData(100);
  private final AvroData plain = new AvroData(100, false, false);

  private static org.apache.avro.Schema avro(String json) {
    return new org.apache.avro.Schema.Parser().parse(json);
  }

  @Test
  void shouldMapPrimitivesBothWays() {
    assertThat(avroData.toConnectSchema(avro("\"boolean\""))).isEqualTo(Schema.BOOLEAN_SCHEMA);
    assertThat(avroData.toConnectSchema(avro("\"int\""))).isEqualTo(Schema.INT32_SCHEMA);
    assertThat(avroData.toConnectSchema(avro("\"long\""))).isEqualTo(Schema.INT64_SCHEMA);
    assertThat(avroData.toConnectSchema(avro("\"float\""))).isEqualTo(Schema.FLOAT32_SCHEMA);
    assertThat(avroData.toConnectSchema(avro("\"double\""))).isEqualTo(Schema.FLOAT64_SCHEMA);
    assertThat(avroData.toConnectSchema(avro("\"string\""))).isEqualTo(Schema.STRING_SCHEMA);
    assertThat(avroData.toConnectSchema(avro("\"bytes\""))).isEqualTo(Schema.BYTES_SCHEMA);

    assertThat(avroData.fromConnectSchema(Schema.INT32_SCHEMA)).isEqualTo(avro("\"int\""));
    assertThat(avroData.fromConnectSchema(Schema.STRING_SCHEMA)).isEqualTo(avro("\"string\""));
    assertThat(avroData.fromConnectSchema(Schema.BYTES_SCHEMA)).isEqualTo(avro("\"bytes\""));

    // Connect's int8/int16 have no Avro type: Confluent marks the int with connect.type.
    org.apache.avro.Schema int8 = avroData.fromConnectSchema(Schema.INT8_SCHEMA);
    assertThat(int8).isEqualTo(avro("{\"type\":\"int\",\"connect.type\":\"int8\"}"));
    assertThat(avroData.toConnectSchema(int8)).isEqualTo(Schema.INT8_SCHEMA);
    org.apache.avro.Schema int16 = avroData.fromConnectSchema(Schema.INT16_SCHEMA);
    assertThat(avroData.toConnectSchema(int16)).isEqualTo(Schema.INT16_SCHEMA);
    assertThat(avroData.fromConnectData(Schema.INT8_SCHEMA, int8, (byte) -3)).isEqualTo(-3);
    assertThat(avroData.toConnectData(int16, 300).value()).isEqualTo((short) 300);

    byte[] bytes = {1, 2, 3};
    assertThat(avroData.fromConnectData(Schema.BYTES_SCHEMA, avro("\"bytes\""), bytes))
        .isEqualTo(ByteBuffer.wrap(bytes));
    assertThat(avroData.toConnectData(avro("\"bytes\""), ByteBuffer.wrap(bytes)).value())
        .isEqualTo(bytes);
    assertThat(
            avroData.toConnectData(avro("\"string\""), new org.apache.avro.util.Utf8("hi")).value())
        .isEqualTo("hi");
  }

  @Test
  void shouldMapOptionalUnionsInEitherOrderToOptionalSchemas() {
    org.apache.avro.Schema record =
        avro(
            "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                + "{\"name\":\"a\",\"type\":[\"null\",\"string\"],\"default\":null},"
                + "{\"name\":\"b\",\"type\":[\"long\",\"null\"],\"default\":7}]}");

    Schema connect = plain.toConnectSchema(record);

    assertThat(connect.field("a").schema()).isEqualTo(Schema.OPTIONAL_STRING_SCHEMA);
    assertThat(connect.field("b").schema().isOptional()).isTrue();
    assertThat(connect.field("b").schema().defaultValue()).isEqualTo(7L);
    // Back: a null default puts null first, a non-null default puts the type first.
    org.apache.avro.Schema back = plain.fromConnectSchema(connect);
    assertThat(back.getField("a").schema().getTypes().get(0).getType())
        .isEqualTo(org.apache.avro.Schema.Type.NULL);
    assertThat(back.getField("a").defaultVal())
        .isEqualTo(org.apache.avro.JsonProperties.NULL_VALUE);
    assertThat(back.getField("b").schema().getTypes().get(0).getType())
        .isEqualTo(org.apache.avro.Schema.Type.LONG);
    assertThat(back.getField("b").defaultVal()).isEqualTo(7L);
    assertThat(back.toString()).isEqualTo(record.toString());

    GenericRecord value = new GenericData.Record(record);
    value.put("a", null);
    value.put("b", 5L);
    Struct struct = (Struct) plain.toConnectData(record, value).value();
    assertThat(struct.get("a")).isNull();
    assertThat(struct.get("b")).isEqualTo(5L);
    assertThat(plain.fromConnectData(connect, back, struct).toString()).isEqualTo(value.toString());
  }

  @Test
  void shouldMapGeneralUnionsToConfluentUnionStruct() {
    org.apache.avro.Schema record =
        avro(
            "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":["
                + "{\"name\":\"u\",\"type\":[\"null\",\"int\",\"string\","
                + "{\"type\":\"record\",\"name\":\"Inner\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}]}]}");

    Schema connect = avroData.toConnectSchema(record);

    Schema union = connect.field("u").schema();
    assertThat(union.type()).isEqualTo(Schema.Type.STRUCT);
    assertThat(union.name()).isEqualTo("io.confluent.connect.avro.Union");
    assertThat(union.isOptional()).as("a null branch makes the union optional").isTrue();
    assertThat(union.fields()).extracting(f -> f.name()).containsExactly("int", "string", "Inner");
    assertThat(union.fields()).allMatch(f -> f.schema().isOptional());
    assertThat(union.field("Inner").schema().name()).isEqualTo("n.Inner");

    GenericRecord inner = new GenericData.Record(record.getField("u").schema().getTypes().get(3));
    inner.put("x", 4);
    GenericRecord value = new GenericData.Record(record);
    value.put("u", inner);
    Struct struct = (Struct) avroData.toConnectData(record, value).value();
    Struct unionValue = struct.getStruct("u");
    assertThat(unionValue.get("int")).isNull();
    assertThat(unionValue.get("string")).isNull();
    assertThat(unionValue.getStruct("Inner").get("x")).isEqualTo(4);

    org.apache.avro.Schema back = avroData.fromConnectSchema(connect);
    assertThat(back.getField("u").schema().getTypes())
        .extracting(org.apache.avro.Schema::getType)
        .containsExactly(
            org.apache.avro.Schema.Type.NULL,
            org.apache.avro.Schema.Type.INT,
            org.apache.avro.Schema.Type.STRING,
            org.apache.avro.Schema.Type.RECORD);
    GenericRecord written = (GenericRecord) avroData.fromConnectData(connect, back, struct);
    assertThat(((GenericRecord) written.get("u")).get("x")).isEqualTo(4);

    value.put("u", "text");
    Struct text = (Struct) avroData.toConnectData(record, value).value();
    assertThat(text.getStruct("u").get("string")).isEqualTo("text");
    assertThat(((GenericRecord) avroData.fromConnectData(connect, back, text)).get("u"))
        .isEqualTo("text");

    value.put("u", null);
    assertThat(((Struct) avroData.toConnectData(record, value).value()).get("u")).isNull();

    AvroData enhanced = new AvroData(10, true, true);
    assertThat(enhanced.toConnectSchema(record).field("u").schema().field("n.Inner")).isNotNull();
  }

  @Test
  void shouldMapLogicalTypes() {
    org.apache.avro.Schema decimalBytes =
        LogicalTypes.decimal(10, 2)
            .addToSchema(org.apache.avro.Schema.create(org.apache.avro.Schema.Type.BYTES));
    Schema decimal = avroData.toConnectSchema(decimalBytes);
    assertThat(decimal.name()).isEqualTo(Decimal.LOGICAL_NAME);
    assertThat(decimal.parameters())
        .containsEntry(Decimal.SCALE_FIELD, "2")
        .containsEntry("connect.decimal.precision", "10");
    BigDecimal price = new BigDecimal("-1234.56");
    Object avroPrice = avroData.fromConnectData(decimal, decimalBytes, price);
    assertThat(avroPrice).isEqualTo(ByteBuffer.wrap(price.unscaledValue().toByteArray()));
    assertThat(avroData.toConnectData(decimalBytes, avroPrice).value()).isEqualTo(price);
    org.apache.avro.Schema decimalBack = avroData.fromConnectSchema(decimal);
    assertThat(decimalBack.getLogicalType()).isEqualTo(LogicalTypes.decimal(10, 2));

    org.apache.avro.Schema decimalFixed =
        avro(
            "{\"type\":\"fixed\",\"name\":\"Money\",\"size\":8,\"logicalType\":\"decimal\","
                + "\"precision\":18,\"scale\":3}");
    Schema fixedDecimal = avroData.toConnectSchema(decimalFixed);
    assertThat(fixedDecimal.name()).isEqualTo(Decimal.LOGICAL_NAME);
    Object fixedValue =
        avroData.fromConnectData(fixedDecimal, decimalFixed, new BigDecimal("-0.500"));
    assertThat(((GenericData.Fixed) fixedValue).bytes()).hasSize(8);
    assertThat(avroData.toConnectData(decimalFixed, fixedValue).value())
        .isEqualTo(new BigDecimal("-0.500"));
    assertThat(avroData.fromConnectSchema(fixedDecimal).getType())
        .isEqualTo(org.apache.avro.Schema.Type.FIXED);

    org.apache.avro.Schema date = avro("{\"type\":\"int\",\"logicalType\":\"date\"}");
    org.apache.avro.Schema time = avro("{\"type\":\"int\",\"logicalType\":\"time-millis\"}");
    org.apache.avro.Schema timestamp =
        avro("{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}");
    assertThat(avroData.toConnectSchema(date).name()).isEqualTo(Date.LOGICAL_NAME);
    assertThat(avroData.toConnectSchema(time).name()).isEqualTo(Time.LOGICAL_NAME);
    assertThat(avroData.toConnectSchema(timestamp).name()).isEqualTo(Timestamp.LOGICAL_NAME);

    assertThat(avroData.toConnectData(date, 2).value())
        .isEqualTo(new java.util.Date(2 * 86_400_000L));
    assertThat(avroData.toConnectData(time, 1500).value()).isEqualTo(new java.util.Date(1500));
    assertThat(avroData.toConnectData(timestamp, 1_741_944_413_589L).value())
        .isEqualTo(new java.util.Date(1_741_944_413_589L));
    // Generic data read with Avro's logical-type conversions arrives as java.time values.
    assertThat(avroData.toConnectData(timestamp, java.time.Instant.ofEpochMilli(42)).value())
        .isEqualTo(new java.util.Date(42));

    assertThat(
            avroData.fromConnectData(
                Date.SCHEMA,
                avroData.fromConnectSchema(Date.SCHEMA),
                new java.util.Date(3 * 86_400_000L)))
        .isEqualTo(3);
    assertThat(
            avroData.fromConnectData(
                Time.SCHEMA, avroData.fromConnectSchema(Time.SCHEMA), new java.util.Date(1500)))
        .isEqualTo(1500);
    org.apache.avro.Schema timestampBack = avroData.fromConnectSchema(Timestamp.SCHEMA);
    assertThat(timestampBack.getLogicalType()).isEqualTo(LogicalTypes.timestampMillis());
    assertThat(timestampBack.getProp("connect.name")).isEqualTo(Timestamp.LOGICAL_NAME);
    assertThat(avroData.fromConnectData(Timestamp.SCHEMA, timestampBack, new java.util.Date(42)))
        .isEqualTo(42L);
    assertThat(avroData.fromConnectSchema(Date.SCHEMA).getLogicalType())
        .isEqualTo(LogicalTypes.date());
    assertThat(avroData.fromConnectSchema(Time.SCHEMA).getLogicalType())
        .isEqualTo(LogicalTypes.timeMillis());
  }

  @Test
  void shouldMapEnumsToStringsWithConfluentEnumParameters() {
    org.apache.avro.Schema color =
        avro(
            "{\"type\":\"enum\",\"name\":\"Color\",\"namespace\":\"shop\",\"doc\":\"colours\","
                + "\"symbols\":[\"UNKNOWN\",\"RED\",\"BLUE\"],\"default\":\"UNKNOWN\"}");

    Schema connect = avroData.toConnectSchema(color);

    assertThat(connect.type()).isEqualTo(Schema.Type.STRING);
    assertThat(connect.name()).isEqualTo("shop.Color");
    assertThat(connect.parameters())
        .containsEntry("io.confluent.connect.avro.Enum", "shop.Color")
        .containsEntry("io.confluent.connect.avro.Enum.UNKNOWN", "UNKNOWN")
        .containsEntry("io.confluent.connect.avro.Enum.RED", "RED")
        .containsEntry("io.confluent.connect.avro.Enum.BLUE", "BLUE")
        .containsEntry("io.confluent.connect.avro.enum.default", "UNKNOWN");
    assertThat(avroData.toConnectData(color, new GenericData.EnumSymbol(color, "RED")).value())
        .isEqualTo("RED");

    org.apache.avro.Schema back = avroData.fromConnectSchema(connect);
    assertThat(back.getType()).isEqualTo(org.apache.avro.Schema.Type.ENUM);
    assertThat(back.getFullName()).isEqualTo("shop.Color");
    assertThat(back.getEnumSymbols()).containsExactly("UNKNOWN", "RED", "BLUE");
    assertThat(back.getEnumDefault()).isEqualTo("UNKNOWN");
    assertThat(back.getDoc()).isEqualTo("colours");
    assertThat(avroData.fromConnectData(connect, back, "BLUE"))
        .isEqualTo(new GenericData.EnumSymbol(back, "BLUE"));
    assertThatThrownBy(() -> avroData.fromConnectData(connect, back, "GREEN"))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("'GREEN' is not a symbol of the Avro enum shop.Color");
  }

  @Test
  void shouldMapNestedRecordsArraysAndStringKeyedMaps() {
    org.apache.avro.Schema record =
        avro(
            "{\"type\":\"record\",\"name\":\"Outer\",\"namespace\":\"n\",\"doc\":\"outer doc\","
                + "\"fields\":["
                + "{\"name\":\"inner\",\"doc\":\"field doc\",\"type\":{\"type\":\"record\","
                + "\"name\":\"Inner\",\"doc\":\"inner doc\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}},"
                + "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[]},"
                + "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":{}}]}");

    Schema connect = avroData.toConnectSchema(record);

    assertThat(connect.name()).isEqualTo("n.Outer");
    assertThat(connect.doc()).isEqualTo("outer doc");
    Schema inner = connect.field("inner").schema();
    assertThat(inner.name()).isEqualTo("n.Inner");
    assertThat(inner.doc()).as("a field's doc wins over its record's").isEqualTo("field doc");
    assertThat(inner.parameters()).containsEntry("connect.record.doc", "inner doc");
    assertThat(connect.field("tags").schema().type()).isEqualTo(Schema.Type.ARRAY);
    assertThat(connect.field("tags").schema().defaultValue()).isEqualTo(List.of());
    assertThat(connect.field("attrs").schema().keySchema()).isEqualTo(Schema.STRING_SCHEMA);
    assertThat(connect.field("attrs").schema().defaultValue()).isEqualTo(Map.of());

    GenericRecord innerValue = new GenericData.Record(record.getField("inner").schema());
    innerValue.put("x", 9);
    GenericRecord value = new GenericData.Record(record);
    value.put("inner", innerValue);
    value.put("tags", List.of(new org.apache.avro.util.Utf8("a"), "b"));
    value.put("attrs", Map.of(new org.apache.avro.util.Utf8("k"), 1L));
    Struct struct = (Struct) avroData.toConnectData(record, value).value();
    assertThat(struct.getStruct("inner").getInt32("x")).isEqualTo(9);
    assertThat(struct.getArray("tags")).containsExactly("a", "b");
    assertThat(struct.getMap("attrs")).containsExactly(Map.entry("k", 1L));

    org.apache.avro.Schema back = avroData.fromConnectSchema(connect);
    assertThat(back.getDoc()).isEqualTo("outer doc");
    assertThat(back.getField("inner").doc()).isEqualTo("field doc");
    assertThat(back.getField("inner").schema().getDoc()).isEqualTo("inner doc");
    assertThat(back.getField("attrs").schema().getType())
        .isEqualTo(org.apache.avro.Schema.Type.MAP);
    GenericRecord written = (GenericRecord) avroData.fromConnectData(connect, back, struct);
    assertThat(GenericData.get().validate(back, written)).isTrue();
    assertThat(((GenericRecord) written.get("inner")).get("x")).isEqualTo(9);
    assertThat(written.get("attrs")).isEqualTo(Map.of("k", 1L));
  }

  @Test
  void shouldMapNonStringKeyedMapsToConfluentMapEntryArrays() {
    Schema map = SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.STRING_SCHEMA).build();

    org.apache.avro.Schema avro = avroData.fromConnectSchema(map);

    assertThat(avro.getType()).isEqualTo(org.apache.avro.Schema.Type.ARRAY);
    org.apache.avro.Schema entry = avro.getElementType();
    assertThat(entry.getFullName()).isEqualTo("io.confluent.connect.avro.MapEntry");
    assertThat(entry.getFields()).extracting(f -> f.name()).containsExactly("key", "value");
    Object written = avroData.fromConnectData(map, avro, Map.of(1, "one", 2, "two"));
    assertThat((List<?>) written).hasSize(2);

    SchemaAndValue read = avroData.toConnectData(avro, written);
    assertThat(read.schema().type()).isEqualTo(Schema.Type.MAP);
    assertThat(read.schema().keySchema().type()).isEqualTo(Schema.Type.INT32);
    assertThat(read.value()).isEqualTo(Map.of(1, "one", 2, "two"));

    // An optional string key is not an Avro map key either.
    Schema optionalKeys =
        SchemaBuilder.map(Schema.OPTIONAL_STRING_SCHEMA, Schema.INT32_SCHEMA).build();
    assertThat(avroData.fromConnectSchema(optionalKeys).getType())
        .isEqualTo(org.apache.avro.Schema.Type.ARRAY);
  }

  @Test
  void shouldKeepConnectNameVersionDocParametersAndDefaultInAvroProperties() {
    Schema connect =
        SchemaBuilder.string()
            .name("io.debezium.data.Json")
            .version(1)
            .doc("a JSON document")
            .parameter("origin", "jsonb")
            .defaultValue("{}")
            .build();

    org.apache.avro.Schema avro = avroData.fromConnectSchema(connect);

    assertThat(avro.getProp("connect.name")).isEqualTo("io.debezium.data.Json");
    assertThat(avro.getObjectProp("connect.version")).isEqualTo(1);
    assertThat(avro.getProp("connect.doc")).isEqualTo("a JSON document");
    assertThat(avro.getObjectProp("connect.parameters")).isEqualTo(Map.of("origin", "jsonb"));
    assertThat(avro.getProp("connect.default")).isEqualTo("{}");
    assertThat(avroData.toConnectSchema(avro)).isEqualTo(connect);

    assertThat(plain.fromConnectSchema(connect)).isEqualTo(avro("\"string\""));
  }

  @Test
  void shouldRoundTripFieldDefaultsAndNameStructsWithoutOne() {
    Schema struct =
        SchemaBuilder.struct()
            .field("count", SchemaBuilder.int32().defaultValue(3).build())
            .field("label", SchemaBuilder.string().optional().defaultValue("none").build())
            .field("when", Timestamp.builder().defaultValue(new java.util.Date(5)).build())
            .field("small", SchemaBuilder.int16().defaultValue((short) 2).build())
            .build();

    org.apache.avro.Schema avro = avroData.fromConnectSchema(struct);

    assertThat(avro.getFullName()).isEqualTo("io.confluent.connect.avro.ConnectDefault");
    assertThat(avro.getField("count").defaultVal()).isEqualTo(3);
    assertThat(avro.getField("label").defaultVal()).isEqualTo("none");
    assertThat(avro.getField("when").defaultVal()).isEqualTo(5L);
    assertThat(avroData.toConnectSchema(avro)).isEqualTo(struct);

    Struct empty = new Struct(struct);
    GenericRecord written = (GenericRecord) avroData.fromConnectData(struct, avro, empty);
    assertThat(written.get("count")).isEqualTo(3);
    assertThat(written.get("label")).isEqualTo("none");

    Schema invalidName =
        SchemaBuilder.struct().name("my-topic.Value").field("a", Schema.INT32_SCHEMA).build();
    org.apache.avro.Schema scrubbed = avroData.fromConnectSchema(invalidName);
    assertThat(scrubbed.getFullName()).isEqualTo("my_topic.Value");
    assertThat(scrubbed.getProp("connect.name")).isEqualTo("my-topic.Value");
    assertThat(avroData.toConnectSchema(scrubbed).name()).isEqualTo("my-topic.Value");
  }

  @Test
  void shouldRefuseRecursiveRecordsAndNullAlone() {
    org.apache.avro.Schema node =
        avro(
            "{\"type\":\"record\",\"name\":\"Node\",\"fields\":["
                + "{\"name\":\"next\",\"type\":[\"null\",\"Node\"],\"default\":null}]}");

    assertThatThrownBy(() -> avroData.toConnectSchema(node))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("recursive Avro record Node");
    assertThatThrownBy(() -> avroData.toConnectSchema(avro("\"null\"")))
        .isInstanceOf(DataException.class);
    assertThatThrownBy(() -> avroData.fromConnectSchema(null))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("needs a Connect schema");
  }

  @Test
  void shouldRejectDataThatDoesNotMatchTheSchema() {
    Schema struct = SchemaBuilder.struct().name("S").field("a", Schema.INT32_SCHEMA).build();
    org.apache.avro.Schema avro = avroData.fromConnectSchema(struct);

    assertThatThrownBy(() -> avroData.fromConnectData(struct, avro, new Struct(struct)))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("required");
    assertThatThrownBy(() -> avroData.fromConnectData(Schema.INT32_SCHEMA, avro("\"int\""), "x"))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("java.lang.String");
  }

  @Test
  void shouldWriteEveryShopLensSchemaBackAsItWasWithoutMetaData() {
    // The catalog transform relies on this: Product -> Connect -> Avro is Product again.
    for (var event : SampleEvents.allFull().values()) {
      org.apache.avro.Schema schema = event.getSchema();
      Schema connect = avroData.toConnectSchema(schema);

      org.apache.avro.Schema back = plain.fromConnectSchema(connect);

      // Only the Java-specific string hint of generated classes is not carried over, nor, without
      // metadata, the Connect name of an array (UploadEmbedding.vector's, for Debezium's sink).
      String expected =
          schema
              .toString()
              .replace(",\"avro.java.string\":\"String\"", "")
              .replace(",\"connect.name\":\"io.debezium.data.FloatVector\"", "")
              .replace("{\"type\":\"string\"}", "\"string\"");
      assertThat(back.toString()).as(schema.getFullName()).isEqualTo(expected);
      assertThat(avroData.toConnectSchema(avroData.fromConnectSchema(connect)))
          .as("Connect -> Avro -> Connect of " + schema.getFullName())
          .isEqualTo(connect);
    }
  }
}
