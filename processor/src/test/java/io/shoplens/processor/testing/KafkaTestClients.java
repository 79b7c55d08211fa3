package io.shoplens.processor.testing;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topic;
import io.shoplens.processor.topology.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The Kafka clients that the integration tests on an {@link EmbeddedKafkaCluster} share: a byte
 * producer and a {@code read_committed} byte consumer, plus the (de)serialisation through a {@link
 * Topic}'s serdes. Bytes on the wire keep the tests free to send what a serde would refuse (corrupt
 * payloads) and to read a record's headers next to its value.
 *
 * <p>Every client returned here is the caller's to close.
 */
public final class KafkaTestClients {
  /**
   * The topics a ShopLens with recommendations reads and writes, besides the compacted catalog and
   * embeddings topics.
   */
  public static final List<String> SHOPLENS_TOPICS =
      List.of(
          Topics.IMAGE_UPLOADS,
          Topics.QUESTIONS,
          Topics.CAPTIONS,
          Topics.ANSWERS,
          Topics.RECOMMENDATIONS,
          Topics.DEAD_LETTERS);

  private KafkaTestClients() {}

  /**
   * An idempotent producer with {@code acks=all}: what the storefront runs, so a test that counts
   * outputs sees each input exactly once however the broker retries.
   */
  public static KafkaProducer<byte[], byte[]> idempotentProducer(EmbeddedKafkaCluster kafka) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.ACKS_CONFIG,
            "all"),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  /**
   * A producer typed by {@code topic}'s serdes, for tests that only send well-formed events.
   * Default producer settings; {@code send(...).get()} where the order across producers matters.
   */
  public static <V> KafkaProducer<String, V> producer(
      EmbeddedKafkaCluster kafka, Topic<String, V> topic) {
    return new KafkaProducer<>(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
        topic.keySerde().serializer(),
        topic.valueSerde().serializer());
  }

  /**
   * A consumer that reads from the earliest offset in a fresh group named {@code groupPrefix} plus
   * a random suffix, and sees only committed records: aborted transactions of a crashed instance
   * stay invisible, which is what exactly-once checks rely on.
   */
  public static KafkaConsumer<byte[], byte[]> readCommittedConsumer(
      EmbeddedKafkaCluster kafka, String groupPrefix) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG,
            groupPrefix + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
            "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed"),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  /**
   * Sends {@code value} serialised by {@code topic}'s value serde under the UTF-8 bytes of {@code
   * key}; a null value is sent as a tombstone. Does not wait for the acknowledgement.
   */
  public static <V> void send(
      KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, String key, V value) {
    sendRaw(
        producer,
        topic.name(),
        key,
        value == null ? null : topic.valueSerde().serializer().serialize(topic.name(), value));
  }

  /** Sends {@code value} as is, e.g. bytes no serde would produce. */
  public static void sendRaw(
      KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) {
    producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
  }

  /** Deserialises {@code record}'s value with {@code topic}'s value serde. */
  public static <V> V read(Topic<String, V> topic, ConsumerRecord<byte[], byte[]> record) {
    return topic.valueSerde().deserializer().deserialize(record.topic(), record.value());
  }

  /** Creates each topic with {@code partitions} partitions and the broker's default settings. */
  public static void createTopics(EmbeddedKafkaCluster kafka, int partitions, List<String> topics) {
    for (String topic : topics) {
      kafka.createTopics(topic, partitions, Map.of());
    }
  }

  /**
   * The Streams settings of a ShopLens instance under test: ShopLens' own (exactly-once), the
   * topology's serde settings, inputs read from the earliest offset, and a 100 ms commit interval
   * so that a {@code read_committed} consumer sees results within a test's patience.
   */
  public static Properties streamsProperties(
      ShopLensTopologyConfig config,
      String bootstrapServers,
      String applicationId,
      String stateDir) {
    Properties props = new Properties();
    props.putAll(ShopLensTopology.streamsConfig());
    props.putAll(config.serdeConfig());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    return props;
  }

  /**
   * Every committed record of {@code topic}, read from the beginning to the end offsets it has now
   * (no group, no commits).
   */
  public static List<ConsumerRecord<byte[], byte[]>> readAllCommitted(
      EmbeddedKafkaCluster kafka, String topic) {
    Map<String, Object> props = new HashMap<>();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(p.topic(), p.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> ends = c.endOffsets(parts);
      while (parts.stream().anyMatch(p -> c.position(p) < ends.get(p))) {
        c.poll(Duration.ofMillis(100)).forEach(out::add);
      }
    }
    return out;
  }
}
