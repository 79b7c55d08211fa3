package io.shoplens.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.events.QuestionAsked;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.registry.SchemaRegistryClientConfig;
import io.shoplens.schemas.SampleEvents;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KafkaAvroSerdeTest {
  private static final String TOPIC = "orders";
  private static final Schema ORDER =
      SchemaBuilder.record("Order")
          .namespace("io.shoplens.test")
          .fields()
          .requiredString("id")
          .requiredLong("amount")
          .endRecord();

  private final String scope = "serde-test-" + UUID.randomUUID();
  private final MockSchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);

  @AfterEach
  void dropScope() {
    MockSchemaRegistry.dropScope(scope);
  }

  private Map<String, Object> settings(Object... keyValues) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, "mock://" + scope);
    for (int i = 0; i < keyValues.length; i += 2) {
      settings.put((String) keyValues[i], keyValues[i + 1]);
    }
    return settings;
  }

  private KafkaAvroSerializer serializer(boolean isKey, Object... keyValues) {
    KafkaAvroSerializer serializer = new KafkaAvroSerializer();
    serializer.configure(settings(keyValues), isKey);
    return serializer;
  }

  private KafkaAvroDeserializer deserializer(boolean isKey, Object... keyValues) {
    KafkaAvroDeserializer deserializer = new KafkaAvroDeserializer();
    deserializer.configure(settings(keyValues), isKey);
    return deserializer;
  }

  private static GenericRecord order(String id, long amount) {
    GenericRecord record = new GenericData.Record(ORDER);
    record.put("id", id);
    record.put("amount", amount);
    return record;
  }

  @Test
  void shouldWriteMagicByteBigEndianIdAndAvroBinary() throws Exception {
    // Given: 257 other schemas first, so that the id (258 = 0x0102) spans two bytes
    for (int i = 0; i < 257; i++) {
      registry.register("filler-" + i, SchemaBuilder.fixed("F" + i).size(1));
    }

    // When
    byte[] bytes = serializer(false).serialize(TOPIC, order("a", 5));

    // Then: 0x00, 00 00 01 02, then "a" (zig-zag length 1 = 0x02, 'a') and 5 (zig-zag 0x0a)
    assertThat(bytes).containsExactly(0x00, 0x00, 0x00, 0x01, 0x02, 0x02, 'a', 0x0a);
    assertThat(registry.getLatestSchemaMetadata("orders-value").id()).isEqualTo(258);
  }

  @Test
  void shouldRoundTripGenericRecords() {
    // Given
    GenericRecord original = order("o-1", 1234L);

    // When
    byte[] bytes = serializer(false).serialize(TOPIC, original);
    Object read = deserializer(false).deserialize(TOPIC, bytes);

    // Then
    assertThat(read).isInstanceOf(GenericRecord.class).isEqualTo(original);
    assertThat(((GenericRecord) read).get("id")).hasToString("o-1");
  }

  @Test
  void shouldRoundTripEveryEventAsSpecificRecord() {
    // Given
    SpecificAvroSerde<SpecificRecordBase> serde = new SpecificAvroSerde<>();
    serde.configure(settings(), false);

    for (Map.Entry<String, SpecificRecordBase> sample : SampleEvents.allSamples().entrySet()) {
      // When
      String topic = "shoplens." + sample.getKey().replace('/', '-');
      byte[] bytes = serde.serializer().serialize(topic, sample.getValue());
      SpecificRecordBase read = serde.deserializer().deserialize(topic, bytes);

      // Then
      assertThat(read).as(sample.getKey()).isEqualTo(sample.getValue());
      assertThat(read.getClass()).as(sample.getKey()).isEqualTo(sample.getValue().getClass());
    }
  }

  @Test
  void shouldReadSpecificRecordsAsGenericWhenNotAskedForSpecific() {
    // Given
    QuestionAsked question = SampleEvents.questionAskedFull();
    byte[] bytes = serializer(false).serialize(TOPIC, question);

    // When
    GenericAvroSerde serde = new GenericAvroSerde();
    serde.configure(settings(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true), false);
    GenericRecord read = serde.deserializer().deserialize(TOPIC, bytes);

    // Then: generic, whatever specific.avro.reader said; same encoding when written back
    assertThat(read).isNotInstanceOf(SpecificRecord.class);
    assertThat(read.getSchema()).isEqualTo(QuestionAsked.getClassSchema());
    assertThat(read.get("questionId")).hasToString(question.getQuestionId());
    assertThat(serde.serializer().serialize(TOPIC, read)).isEqualTo(bytes);
  }

  @Test
  void shouldReadSpecificClassByWriterSchemaName() {
    // Given
    QuestionAsked question = SampleEvents.questionAskedMinimal();
    byte[] bytes = serializer(false).serialize(TOPIC, question);

    // When
    Object read =
        deserializer(false, KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true)
            .deserialize(TOPIC, bytes);

    // Then
    assertThat(read).isInstanceOf(QuestionAsked.class).isEqualTo(question);
  }

  @Test
  void shouldFailClearlyWhenNoGeneratedClassMatchesTheWriter() {
    byte[] bytes = serializer(false).serialize(TOPIC, order("a", 1));

    assertThatThrownBy(
            () ->
                deserializer(false, KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true)
                    .deserialize(TOPIC, bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("io.shoplens.test.Order")
        .hasMessageContaining("topic 'orders'")
        .hasMessageContaining("id 1");
  }

  @Test
  void shouldReadAnOldWritersEventsIntoTheNewSpecificClass() throws Exception {
    // Given: an older QuestionAsked without its optional fields, registered and written
    Schema old = withoutDefaultedFields(QuestionAsked.getClassSchema());
    assertThat(old.getFields()).hasSizeLessThan(QuestionAsked.getClassSchema().getFields().size());
    registry.register(TOPIC + "-value", old);
    QuestionAsked current = SampleEvents.questionAskedFull();
    GenericRecord oldEvent = new GenericData.Record(old);
    for (Schema.Field field : old.getFields()) {
      // The raw (long) value of timestamp fields, as an old generic producer holds it.
      Object value = current.get(field.name());
      oldEvent.put(field.name(), value instanceof java.time.Instant i ? i.toEpochMilli() : value);
    }
    byte[] bytes =
        serializer(false, KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG, false)
            .serialize(TOPIC, oldEvent);

    // When
    SpecificAvroDeserializer<QuestionAsked> reader =
        new SpecificAvroDeserializer<>(QuestionAsked.class);
    reader.configure(settings(), false);
    QuestionAsked read = reader.deserialize(TOPIC, bytes);

    // Then: the fields the old writer had, and the new fields' defaults
    assertThat(read.getQuestionId()).isEqualTo(current.getQuestionId());
    assertThat(read.getAskedAt()).isEqualTo(current.getAskedAt());
    assertThat(read.getConversationId()).isNull();
    assertThat(read.getGenerationOptions()).isNull();
  }

  @Test
  void shouldWriteNewEventsInTheLatestSchemaForOldReaders() throws Exception {
    // Given: the subject's latest schema is the older QuestionAsked
    Schema old = withoutDefaultedFields(QuestionAsked.getClassSchema());
    int oldId = registry.register(TOPIC + "-value", old);
    KafkaAvroSerializer serializer =
        serializer(
            false,
            KafkaAvroSerDeConfig.USE_LATEST_VERSION_CONFIG,
            true,
            KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG,
            false);

    // When
    byte[] bytes = serializer.serialize(TOPIC, SampleEvents.questionAskedFull());
    GenericRecord read = (GenericRecord) deserializer(false).deserialize(TOPIC, bytes);

    // Then: written with the old id and readable as the old schema
    assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(oldId);
    assertThat(read.getSchema()).isEqualTo(old);
    assertThat(read.get("questionId"))
        .hasToString(SampleEvents.questionAskedFull().getQuestionId());
    assertThat(registry.getAllVersions(TOPIC + "-value")).containsExactly(1);
  }

  @Test
  void shouldRefuseUseLatestVersionWhenTheLatestCannotReadTheRecord() throws Exception {
    // Given: the latest schema requires a field the record lacks
    Schema stricter =
        SchemaBuilder.record("Order")
            .namespace("io.shoplens.test")
            .fields()
            .requiredString("id")
            .requiredLong("amount")
            .requiredString("currency")
            .endRecord();
    registry.register(TOPIC + "-value", stricter);

    // When / Then
    assertThatThrownBy(
            () ->
                serializer(false, KafkaAvroSerDeConfig.USE_LATEST_VERSION_CONFIG, true)
                    .serialize(TOPIC, order("a", 1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("id 1")
        .hasMessageContaining("latest.compatibility.strict");
  }

  @Test
  void shouldUseAPreRegisteredSchemaWhenAutoRegisterIsOff() throws Exception {
    // Given
    registry.register("unrelated", SchemaBuilder.fixed("X").size(2));
    int id = registry.register("orders-value", ORDER);
    KafkaAvroSerializer serializer =
        serializer(false, KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG, "false");

    // When
    byte[] bytes = serializer.serialize(TOPIC, order("a", 1));

    // Then
    assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id).isEqualTo(2);
    assertThat(registry.getAllVersions("orders-value")).containsExactly(1);
  }

  @Test
  void shouldRefuseAnUnregisteredSchemaWhenAutoRegisterIsOff() {
    KafkaAvroSerializer serializer =
        serializer(false, KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG, false);

    assertThatThrownBy(() -> serializer.serialize(TOPIC, order("a", 1)))
        .isInstanceOf(SerializationException.class)
        .isNotInstanceOf(RetriableSerializationException.class)
        .hasMessageContaining("topic 'orders'")
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("auto.register.schemas=false");
    assertThat(registry.getAllSubjects()).isEmpty();
  }

  @Test
  void shouldRefuseAnIncompatibleSchemaChange() throws Exception {
    // Given: BACKWARD; a new required field without default cannot read old data
    serializer(false).serialize(TOPIC, order("a", 1));
    Schema breaking =
        SchemaBuilder.record("Order")
            .namespace("io.shoplens.test")
            .fields()
            .requiredString("id")
            .requiredLong("amount")
            .requiredString("currency")
            .endRecord();
    GenericRecord record = new GenericData.Record(breaking);
    record.put("id", "a");
    record.put("amount", 1L);
    record.put("currency", "EUR");

    // When / Then
    assertThatThrownBy(() -> serializer(false).serialize(TOPIC, record))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("incompatible")
        .hasMessageContaining("currency");
  }

  @Test
  void shouldNameSubjectsByTheConfiguredStrategy() throws Exception {
    // When
    serializer(false).serialize(TOPIC, order("a", 1));
    serializer(true).serialize(TOPIC, order("a", 1));
    serializer(false, KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY_CONFIG, "RecordNameStrategy")
        .serialize("t1", order("a", 1));
    serializer(
            false,
            KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
            "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy")
        .serialize("t2", order("a", 1));
    serializer(
            true,
            KafkaAvroSerDeConfig.KEY_SUBJECT_NAME_STRATEGY_CONFIG,
            RecordNameStrategy.class,
            KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
            "TopicRecordNameStrategy")
        .serialize("t3", "a string key");

    // Then
    assertThat(registry.getAllSubjects())
        .containsExactlyInAnyOrder(
            "orders-value",
            "orders-key",
            "io.shoplens.test.Order",
            "t2-io.shoplens.test.Order",
            "string");
  }

  @Test
  void shouldReadWithARecordNameStrategyAndNameTheSubjectInErrors() {
    KafkaAvroSerializer serializer =
        serializer(
            false,
            KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
            "TopicRecordNameStrategy");
    byte[] bytes = serializer.serialize(TOPIC, order("a", 1));
    byte[] garbage = Arrays.copyOf(bytes, bytes.length + 1);

    KafkaAvroDeserializer deserializer =
        deserializer(
            false,
            KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
            "TopicRecordNameStrategy");
    assertThat(deserializer.deserialize(TOPIC, bytes)).isEqualTo(order("a", 1));
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, garbage))
        .hasMessageContaining("subject 'orders-io.shoplens.test.Order'");
  }

  @Test
  void shouldRejectAnUnknownStrategy() {
    assertThatThrownBy(
            () ->
                serializer(
                    false,
                    KafkaAvroSerDeConfig.VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
                    "NoSuchStrategy"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("NoSuchStrategy")
        .hasMessageContaining("TopicNameStrategy");
  }

  @Test
  void shouldTreatNullAsATombstoneBothWays() {
    assertThat(serializer(false).serialize(TOPIC, null)).isNull();
    assertThat(deserializer(false).deserialize(TOPIC, null)).isNull();
    SpecificAvroSerde<QuestionAsked> serde = new SpecificAvroSerde<>(QuestionAsked.class);
    serde.configure(settings(), false);
    assertThat(serde.serializer().serialize(TOPIC, null)).isNull();
    assertThat(serde.deserializer().deserialize(TOPIC, null)).isNull();
  }

  @Test
  void shouldRoundTripPrimitivesLikeConfluent() {
    KafkaAvroSerializer serializer = serializer(true);
    KafkaAvroDeserializer deserializer = deserializer(true);

    byte[] text = serializer.serialize(TOPIC, "upload-1");
    byte[] raw = serializer.serialize("blobs", new byte[] {1, 2, 3});

    assertThat(deserializer.deserialize(TOPIC, text)).isEqualTo("upload-1");
    // Confluent writes bytes raw after the prefix, without an Avro length.
    assertThat(raw).containsExactly(0, 0, 0, 0, 2, 1, 2, 3);
    assertThat((byte[]) deserializer.deserialize("blobs", raw)).containsExactly(1, 2, 3);
    assertThat(deserializer.deserialize("n", serializer.serialize("n", 42L))).isEqualTo(42L);
  }

  @Test
  void shouldRefuseAnUnknownMagicByte() {
    byte[] bytes = serializer(false).serialize(TOPIC, order("a", 1));
    bytes[0] = 7;

    assertThatThrownBy(() -> deserializer(false).deserialize(TOPIC, bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("magic byte 0x07")
        .hasMessageContaining("topic 'orders'")
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("schema id unknown");
  }

  @Test
  void shouldRefuseAnUnknownSchemaId() {
    byte[] bytes = {0, 0, 0, 0, 99, 2, 'a', 2};

    assertThatThrownBy(() -> deserializer(false).deserialize(TOPIC, bytes))
        .isInstanceOf(SerializationException.class)
        .isNotInstanceOf(RetriableSerializationException.class)
        .hasMessageContaining("Unknown schema id 99")
        .hasMessageContaining("topic 'orders'")
        .hasMessageContaining("subject 'orders-value'");
  }

  @Test
  void shouldRefuseTruncatedPayloads() {
    byte[] bytes = serializer(false).serialize(TOPIC, order("abc", 1));

    for (byte[] shortPrefix : List.of(new byte[0], new byte[] {0, 0, 0})) {
      assertThatThrownBy(() -> deserializer(false).deserialize(TOPIC, shortPrefix))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("Truncated payload of " + shortPrefix.length)
          .hasMessageContaining("topic 'orders'");
    }
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 2);
    assertThatThrownBy(() -> deserializer(false).deserialize(TOPIC, cut))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Truncated Avro payload")
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("id 1");
  }

  @Test
  void shouldRefuseTrailingGarbage() {
    byte[] bytes = serializer(false).serialize(TOPIC, order("a", 1));
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 2);

    assertThatThrownBy(() -> deserializer(false).deserialize(TOPIC, longer))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Trailing garbage: 2 byte(s)")
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("id 1");
  }

  @Test
  void shouldRefuseARecordThatDoesNotMatchItsSchema() {
    GenericRecord incomplete = new GenericData.Record(ORDER);
    incomplete.put("id", "a");

    assertThatThrownBy(() -> serializer(false).serialize(TOPIC, incomplete))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("id 1");
    assertThatThrownBy(() -> serializer(false).serialize(TOPIC, new Object()))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("java.lang.Object");
  }

  @Test
  void shouldReportAnUnreachableRegistryAsRetriable() throws Exception {
    // Given: a port where nothing listens
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Map<String, Object> unreachable =
        Map.of(
            SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
            "http://127.0.0.1:" + port,
            SchemaRegistryClientConfig.MAX_RETRIES_CONFIG,
            0);
    KafkaAvroSerializer serializer = new KafkaAvroSerializer();
    serializer.configure(unreachable, false);
    KafkaAvroDeserializer deserializer = new KafkaAvroDeserializer();
    deserializer.configure(unreachable, false);

    // When / Then
    assertThatThrownBy(() -> serializer.serialize(TOPIC, order("a", 1)))
        .isInstanceOf(RetriableSerializationException.class)
        .hasMessageContaining("topic 'orders'")
        .hasMessageContaining("subject 'orders-value'")
        .hasMessageContaining("unreachable");
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[] {0, 0, 0, 0, 5, 2, 'a', 2}))
        .isInstanceOf(RetriableSerializationException.class)
        .hasMessageContaining("topic 'orders'")
        .hasMessageContaining("id 5");
  }

  @Test
  void shouldReadTheSchemaFromAGuidOrIdHeader() throws Exception {
    // Given: the Avro body alone, the schema named by a header
    byte[] prefixed = serializer(false).serialize(TOPIC, order("a", 1));
    byte[] body = Arrays.copyOfRange(prefixed, WireFormat.PREFIX_SIZE, prefixed.length);
    UUID guid = UUID.fromString(registry.getGuid(1));
    byte[] guidHeader =
        ByteBuffer.allocate(17)
            .put(WireFormat.MAGIC_BYTE_GUID)
            .putLong(guid.getMostSignificantBits())
            .putLong(guid.getLeastSignificantBits())
            .array();
    RecordHeaders byGuid = new RecordHeaders();
    byGuid.add(WireFormat.VALUE_SCHEMA_ID_HEADER, guidHeader);
    RecordHeaders byId = new RecordHeaders();
    byId.add(WireFormat.VALUE_SCHEMA_ID_HEADER, new byte[] {0, 0, 0, 0, 1});
    RecordHeaders keyOnly = new RecordHeaders();
    keyOnly.add(WireFormat.KEY_SCHEMA_ID_HEADER, guidHeader);
    RecordHeaders bad = new RecordHeaders();
    bad.add(WireFormat.VALUE_SCHEMA_ID_HEADER, new byte[] {9, 9});

    // When / Then
    KafkaAvroDeserializer deserializer = deserializer(false);
    assertThat(deserializer.deserialize(TOPIC, byGuid, body)).isEqualTo(order("a", 1));
    assertThat(deserializer.deserialize(TOPIC, byId, body)).isEqualTo(order("a", 1));
    assertThat(deserializer.deserialize(TOPIC, keyOnly, prefixed)).isEqualTo(order("a", 1));
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, bad, body))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("__value_schema_id")
        .hasMessageContaining("topic 'orders'");
  }

  @Test
  void shouldConvertLogicalTypesInGenericRecordsOnlyWhenAsked() {
    // Given
    Schema stamped =
        SchemaBuilder.record("Stamped")
            .namespace("io.shoplens.test")
            .fields()
            .name("at")
            .type(LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG)))
            .noDefault()
            .endRecord();
    GenericRecord record = new GenericData.Record(stamped);
    record.put("at", Instant.ofEpochMilli(1_700_000_000_123L));
    String converters = KafkaAvroSerDeConfig.AVRO_USE_LOGICAL_TYPE_CONVERTERS_CONFIG;

    // When
    byte[] bytes = serializer(false, converters, true).serialize(TOPIC, record);
    GenericRecord converted =
        (GenericRecord) deserializer(false, converters, true).deserialize(TOPIC, bytes);
    GenericRecord raw = (GenericRecord) deserializer(false).deserialize(TOPIC, bytes);

    // Then
    assertThat(converted.get("at")).isEqualTo(Instant.ofEpochMilli(1_700_000_000_123L));
    assertThat(raw.get("at")).isEqualTo(1_700_000_000_123L);
  }

  @Test
  void shouldRefuseUseBeforeConfigure() {
    assertThatThrownBy(() -> new KafkaAvroSerializer().serialize(TOPIC, order("a", 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("configure");
  }

  /** The record with only its fields that have no default: what an older writer had. */
  private static Schema withoutDefaultedFields(Schema schema) {
    List<Schema.Field> fields =
        schema.getFields().stream()
            .filter(f -> !f.hasDefaultValue())
            .map(f -> new Schema.Field(f, f.schema()))
            .toList();
    Schema old =
        Schema.createRecord(schema.getName(), schema.getDoc(), schema.getNamespace(), false);
    old.setFields(fields);
    schema.getObjectProps().forEach(old::addProp);
    return old;
  }
}
