package io.shoplens.serde;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.schemas.SampleEvents;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any bytes a topic may hold, read by the wire-format deserializer: the only outcomes allowed are a
 * value or a {@link SerializationException} (which the topology dead-letters). Anything else (a
 * NullPointerException, a ClassCastException, an OutOfMemoryError from a forged length) would kill
 * a stream thread.
 *
 * <p>The registry knows every ShopLens schema (one subject per record name) (ids 1..n, registered
 * in {@link SampleEvents#allSamples()} order), so the fuzzer reaches Avro decoding and schema
 * resolution, not just the prefix checks. Seeds:
 * src/test/resources/io/shoplens/serde/KafkaAvroDeserializerFuzzTestInputs.
 */
class KafkaAvroDeserializerFuzzTest {
  private static final String SCOPE = "fuzz-deserializer";
  private static final String TOPIC = "shoplens.fuzz";
  private static final long MAX_ALLOCATED_BYTES = 64L * 1024 * 1024;
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static KafkaAvroDeserializer generic;
  private static KafkaAvroDeserializer specific;

  @BeforeAll
  static void registerEveryShopLensSchema() {
    MockSchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(SCOPE);
    try (KafkaAvroSerializer serializer =
        new KafkaAvroSerializer(
            registry, Map.of("value.subject.name.strategy", "RecordNameStrategy"))) {
      for (SpecificRecordBase event : SampleEvents.allSamples().values()) {
        serializer.serialize(TOPIC, event);
      }
    }
    generic = new KafkaAvroDeserializer(registry, Map.of());
    specific =
        new KafkaAvroDeserializer(
            registry, Map.of(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true));
  }

  @AfterAll
  static void dropScope() {
    generic.close();
    specific.close();
    MockSchemaRegistry.dropScope(SCOPE);
  }

  @FuzzTest(maxDuration = "5m")
  void shouldReturnAValueOrASerializationExceptionForAnyPayload(byte[] payload) {
    read(generic, null, payload);
    read(specific, null, payload);
  }

  /**
   * The first byte is the header's length: the rest is split into a {@code __value_schema_id}
   * header and an Avro payload without prefix.
   */
  @FuzzTest(maxDuration = "5m")
  void shouldReturnAValueOrASerializationExceptionForAnySchemaIdHeader(byte[] input) {
    if (input.length == 0) {
      return;
    }
    int headerLength = Math.min(input[0] & 0xff, input.length - 1);
    RecordHeaders headers = new RecordHeaders();
    headers.add(WireFormat.schemaIdHeader(false), Arrays.copyOfRange(input, 1, 1 + headerLength));
    byte[] payload = Arrays.copyOfRange(input, 1 + headerLength, input.length);
    read(generic, headers, payload);
    read(specific, headers, payload);
  }

  private static void read(KafkaAvroDeserializer deserializer, RecordHeaders headers, byte[] data) {
    long thread = Thread.currentThread().getId();
    long allocatedBefore = THREADS.getThreadAllocatedBytes(thread);
    try {
      Object value = deserializer.deserialize(TOPIC, headers, data);
      assertThat(value).as("a non-null payload never reads as null").isNotNull();
    } catch (SerializationException expected) {
      // The documented refusal: the topology dead-letters it.
      assertThat(expected.getMessage()).as("a refusal says why").isNotBlank();
    }
    assertThat(THREADS.getThreadAllocatedBytes(thread) - allocatedBefore)
        .as("bytes allocated reading a payload of %d bytes", data.length)
        .isLessThan(MAX_ALLOCATED_BYTES);
  }
}
