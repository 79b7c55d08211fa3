package io.shoplens.processor.app.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * One client's share of a settings map that holds everything ShopLens passes to Kafka (cluster,
 * security, serde and registry settings): only the keys that client knows. A plain client given the
 * others would warn about each of them ("supplied but isn't a known config") at every start.
 *
 * <p>For a {@link ShopLensConfig}, use its {@code producerConfigs()}, {@code consumerConfigs()},
 * {@code adminConfigs()} and {@code streamsConfigs(...)}; these are for code that holds only the
 * map (clients built from {@link ShopLensConfig#kafkaProperties()}). Each call returns a new
 * mutable map the caller may add to.
 */
public final class KafkaClientConfigs {
  private KafkaClientConfigs() {}

  /** The settings a {@code KafkaProducer} knows. */
  public static Map<String, Object> producer(Map<String, ?> settings) {
    return only(settings, ProducerConfig.configNames());
  }

  /** The settings a {@code KafkaConsumer} knows. */
  public static Map<String, Object> consumer(Map<String, ?> settings) {
    return only(settings, ConsumerConfig.configNames());
  }

  /** The settings an {@code Admin} client knows. */
  public static Map<String, Object> admin(Map<String, ?> settings) {
    return only(settings, AdminClientConfig.configNames());
  }

  private static Map<String, Object> only(Map<String, ?> settings, Set<String> names) {
    Map<String, Object> out = new LinkedHashMap<>();
    settings.forEach(
        (k, v) -> {
          if (names.contains(k)) {
            out.put(k, v);
          }
        });
    return out;
  }
}
