package io.shoplens.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.schemas.SampleEvents;
import io.shoplens.serde.KafkaAvroSerializer;
import java.lang.management.ManagementFactory;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any bytes a topic may hold, through the Connect converter a sink connector runs: the only
 * outcomes allowed are Connect data or a {@link DataException} (which Connect's error tolerance
 * handles); anything else fails the task. What converts must also convert back: writing the Connect
 * data again and reading that gives the same Connect data.
 *
 * <p>The registry knows every ShopLens schema (one subject per record name), registered in {@link
 * SampleEvents#allSamples()} order (ids 1..n), so the fuzzer reaches Avro decoding and the
 * Avro-to-Connect mapping.
 */
class AvroConverterFuzzTest {
  private static final String SCOPE = "fuzz-converter";
  private static final String TOPIC = "shoplens.fuzz";
  // A forged length must not allocate what the payload cannot hold (see BoundedDecoder).
  private static final long MAX_ALLOCATED_BYTES = 64L * 1024 * 1024;
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static AvroConverter converter;

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
    converter = new AvroConverter();
    converter.configure(
        Map.of(
            "schema.registry.url",
            "mock://" + SCOPE,
            "value.subject.name.strategy",
            "RecordNameStrategy"),
        false);
  }

  @AfterAll
  static void dropScope() {
    converter.close();
    MockSchemaRegistry.dropScope(SCOPE);
  }

  @FuzzTest(maxDuration = "5m")
  void shouldConvertOrRefuseAnyPayloadAndRoundTripWhatItConverts(byte[] payload) {
    long thread = Thread.currentThread().getId();
    long allocatedBefore = THREADS.getThreadAllocatedBytes(thread);
    SchemaAndValue connect;
    try {
      connect = converter.toConnectData(TOPIC, payload);
    } catch (DataException expected) {
      assertThat(expected.getMessage()).isNotBlank();
      return;
    } finally {
      assertThat(THREADS.getThreadAllocatedBytes(thread) - allocatedBefore)
          .as("bytes allocated converting a payload of %d bytes", payload.length)
          .isLessThan(MAX_ALLOCATED_BYTES);
    }
    byte[] rewritten = converter.fromConnectData(TOPIC, connect.schema(), connect.value());
    SchemaAndValue again = converter.toConnectData(TOPIC, rewritten);
    assertThat(again.schema()).isEqualTo(connect.schema());
    assertThat(again.value()).isEqualTo(connect.value());
  }
}
