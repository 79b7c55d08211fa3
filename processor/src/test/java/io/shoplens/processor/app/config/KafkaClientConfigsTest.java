package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaClientConfigsTest {

  @Test
  void shouldGiveEachClientOnlyTheSettingsItKnows() {
    // Given everything ShopLens hands to Kafka: cluster, security, registry and client tuning
    Map<String, Object> settings = ShopLensConfig.validate(withExtras()).kafkaProperties();

    // When
    Map<String, Object> producer = KafkaClientConfigs.producer(settings);
    Map<String, Object> consumer = KafkaClientConfigs.consumer(settings);
    Map<String, Object> admin = KafkaClientConfigs.admin(settings);

    // Then security reaches every client, each client's own tuning only that client, the registry
    // and application id none of them
    for (Map<String, Object> client : List.of(producer, consumer, admin)) {
      assertThat(client)
          .containsEntry("bootstrap.servers", "broker-1:9092,broker-2:9092")
          .containsEntry("security.protocol", "SASL_SSL")
          .doesNotContainKeys("schema.registry.url", "application.id");
    }
    assertThat(producer).containsEntry("linger.ms", "5").doesNotContainKey("max.poll.records");
    assertThat(consumer).containsEntry("max.poll.records", "50").doesNotContainKey("linger.ms");
    assertThat(admin).doesNotContainKeys("linger.ms", "max.poll.records");
  }

  @Test
  void shouldOfferTheSameSplitOnTheConfiguration() {
    // Given
    ShopLensConfig config = ShopLensConfig.validate(withExtras());

    // When / Then
    assertThat(config.producerConfigs())
        .isEqualTo(KafkaClientConfigs.producer(config.kafkaProperties()));
    assertThat(config.consumerConfigs())
        .isEqualTo(KafkaClientConfigs.consumer(config.kafkaProperties()));
    assertThat(config.adminConfigs()).isEqualTo(KafkaClientConfigs.admin(config.kafkaProperties()));
  }

  @Test
  void shouldLetStreamsOverridesWinOverTheConfiguration() {
    // Given
    ShopLensConfig config = ShopLensConfig.validate(withExtras());

    // When
    var props = config.streamsConfigs(Map.of("commit.interval.ms", 100, "linger.ms", "1"));

    // Then: the topology's exactly-once, every Kafka and serde setting, and the overrides on top
    assertThat(props)
        .containsEntry("processing.guarantee", "exactly_once_v2")
        .containsEntry("schema.registry.url", "https://registry.example.com")
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("commit.interval.ms", 100)
        .containsEntry("linger.ms", "1");
  }

  private static Map<String, String> withExtras() {
    Map<String, String> s = ShopLensConfigTest.minimal();
    s.put("security.protocol", "SASL_SSL");
    s.put("linger.ms", "5");
    s.put("max.poll.records", "50");
    return s;
  }
}
