package io.shoplens.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EmbeddedKafkaClusterTest {

  @Test
  void shouldDeliverOnlyCommittedTransactionsToReadCommittedConsumersAndCleanUpOnClose()
      throws Exception {
    Path data;
    // Given a started single-node cluster and a topic with 3 partitions
    try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start()) {
      data = kafka.dataDirectory();
      assertThat(data).isDirectory();
      kafka.createTopics("orders", 3, Map.of("retention.ms", "3600000"));

      try (Admin admin =
          Admin.create(
              Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
        TopicDescription orders =
            admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
        assertThat(orders.partitions()).hasSize(3);
        String retention =
            admin
                .describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, "orders")))
                .all()
                .get()
                .values()
                .iterator()
                .next()
                .get("retention.ms")
                .value();
        assertThat(retention).isEqualTo("3600000");
      }

      // When one transaction commits 30 records and another aborts 10
      try (KafkaProducer<String, String> producer = transactionalProducer(kafka)) {
        producer.initTransactions();
        producer.beginTransaction();
        for (int i = 0; i < 30; i++) {
          producer.send(new ProducerRecord<>("orders", "k" + i, "committed-" + i));
        }
        producer.commitTransaction();
        producer.beginTransaction();
        for (int i = 0; i < 10; i++) {
          producer.send(new ProducerRecord<>("orders", "k" + i, "aborted-" + i));
        }
        producer.flush();
        producer.abortTransaction();
      }

      // Then a read_committed consumer sees exactly the committed records, across all partitions
      List<ConsumerRecord<String, String>> seen = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer = readCommittedConsumer(kafka)) {
        consumer.subscribe(List.of("orders"));
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInSameThread()
            .untilAsserted(
                () -> {
                  consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                  assertThat(seen).hasSizeGreaterThanOrEqualTo(30);
                });
        // Past the abort marker: nothing more arrives.
        consumer.poll(Duration.ofMillis(500)).forEach(seen::add);
      }
      assertThat(seen.stream().map(ConsumerRecord::value).collect(Collectors.toSet()))
          .isEqualTo(
              IntStream.range(0, 30).mapToObj(i -> "committed-" + i).collect(Collectors.toSet()));
      assertThat(seen).hasSize(30);
      Set<Integer> partitions =
          seen.stream().map(ConsumerRecord::partition).collect(Collectors.toSet());
      assertThat(partitions).hasSizeGreaterThan(1);
      assertThat(kafka.startTime()).isPositive();
    }

    // And closing deleted the data directory
    assertThat(Files.exists(data)).isFalse();
  }

  @Test
  void shouldRefuseUseBeforeStartAndAfterClose() {
    EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster();
    assertThatThrownBy(kafka::bootstrapServers).hasMessage("call start() first");
    kafka.close();
    assertThatThrownBy(kafka::start).hasMessage("this embedded Kafka cluster was closed");
  }

  @Test
  void shouldLetBrokerConfigsOverrideTheExactlyOnceDefaults() {
    EmbeddedKafkaCluster.Config config =
        EmbeddedKafkaCluster.Config.defaults()
            .withDefaultPartitions(6)
            .withBrokerConfigs(Map.of("offsets.topic.num.partitions", "1"));

    Map<String, String> props = new EmbeddedKafkaCluster(config).brokerProperties();

    assertThat(props)
        .containsEntry("transaction.state.log.replication.factor", "1")
        .containsEntry("transaction.state.log.min.isr", "1")
        .containsEntry("offsets.topic.replication.factor", "1")
        .containsEntry("num.partitions", "6")
        .containsEntry("offsets.topic.num.partitions", "1");
    assertThatThrownBy(() -> config.withDefaultPartitions(0))
        .hasMessage("defaultPartitions must be >= 1, got 0");
  }

  @Test
  void shouldKeepCommittingTransactionsWhileOneOfThreeBrokersIsDownAndBringItBack()
      throws Exception {
    // Given three brokers and a topic replicated three times
    try (EmbeddedKafkaCluster kafka =
        new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults().withBrokers(3)).start()) {
      assertThat(kafka.brokerIds()).hasSize(3);
      assertThat(kafka.brokerProperties())
          .containsEntry("transaction.state.log.replication.factor", "3")
          .containsEntry("transaction.state.log.min.isr", "2")
          .containsEntry("min.insync.replicas", "2");
      kafka.createTopics("orders", 3, Map.of());
      int stopped = kafka.brokerIds().get(0);
      try (Admin admin =
          Admin.create(
              Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
        await()
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    assertThat(describe(admin).partitions())
                        .allSatisfy(p -> assertThat(p.replicas()).hasSize(3)));

        // When one broker is stopped, transactions still commit (min ISR 2), and it comes back
        kafka.stopBroker(stopped);
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    assertThat(describe(admin).partitions())
                        .allSatisfy(p -> assertThat(p.leader().id()).isNotEqualTo(stopped)));
        try (KafkaProducer<String, String> producer = transactionalProducer(kafka)) {
          producer.initTransactions();
          producer.beginTransaction();
          for (int i = 0; i < 10; i++) {
            producer.send(new ProducerRecord<>("orders", "k" + i, "while-down-" + i));
          }
          producer.commitTransaction();
        }
        kafka.startBroker(stopped);

        // Then the broker rejoins every partition's in-sync replicas
        await()
            .atMost(Duration.ofSeconds(60))
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    assertThat(describe(admin).partitions())
                        .allSatisfy(p -> assertThat(p.isr()).hasSize(3)));
      }
      try (KafkaConsumer<String, String> consumer = readCommittedConsumer(kafka)) {
        consumer.subscribe(List.of("orders"));
        List<ConsumerRecord<String, String>> seen = new ArrayList<>();
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInSameThread()
            .untilAsserted(
                () -> {
                  consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                  assertThat(seen).hasSize(10);
                });
      }
      assertThatThrownBy(() -> kafka.stopBroker(99)).hasMessageStartingWith("no broker 99");
    }
  }

  private static TopicDescription describe(Admin admin) throws Exception {
    return admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders");
  }

  private static KafkaProducer<String, String> transactionalProducer(EmbeddedKafkaCluster kafka) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            "embedded-test-tx",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.ACKS_CONFIG,
            "all"),
        new StringSerializer(),
        new StringSerializer());
  }

  private static KafkaConsumer<String, String> readCommittedConsumer(EmbeddedKafkaCluster kafka) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "embedded-test",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
        new StringDeserializer(),
        new StringDeserializer());
  }
}
