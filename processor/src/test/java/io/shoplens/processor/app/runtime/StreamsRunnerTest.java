package io.shoplens.processor.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.serde.RetriableSerializationException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one way ShopLens runs a Kafka Streams client, on a real in-process broker. */
class StreamsRunnerTest {
  static EmbeddedKafkaCluster kafka;

  @TempDir Path stateDir;

  @BeforeAll
  static void startKafka() {
    kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults()).start();
  }

  @AfterAll
  static void stopKafka() {
    if (kafka != null) {
      kafka.close();
    }
  }

  Properties props() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "runner-test-" + UUID.randomUUID());
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // A replaced stream thread's consumer does not leave the group: its partitions move to the
    // replacement when the session expires. The broker's minimum keeps that wait short.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6_000);
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1_000);
    return p;
  }

  /** A topology that hands every record of a new topic to {@code action}. */
  static Topology topology(String topic, Runnable action) {
    kafka.createTopics(topic, 1, Map.of());
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(topic, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
        .foreach((k, v) -> action.run());
    return builder.build();
  }

  static void send(String topic) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8), new byte[1]));
    }
  }

  @Test
  void shouldKeepTheStreamThreadFailureAndStopTheClient() throws Exception {
    // Given a topology whose processor fails on the first record
    String topic = "runner-fail-" + UUID.randomUUID();
    IllegalStateException boom = new IllegalStateException("boom");
    List<KafkaStreams.State> seen = new CopyOnWriteArrayList<>();
    try (StreamsRunner runner =
        new StreamsRunner(
            "test",
            topology(
                topic,
                () -> {
                  throw boom;
                }),
            props(),
            Duration.ofSeconds(10),
            (now, before) -> seen.add(now))) {
      runner.start();

      // When a record arrives
      send(topic);

      // Then the failure ends the wait, is kept, and the caller's listener saw the client stop
      Throwable failure = runner.awaitTermination();
      assertThat(failure).hasRootCause(boom);
      assertThat(runner.failure()).containsSame(failure);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(seen).contains(KafkaStreams.State.ERROR));
    }
  }

  @Test
  void shouldReplaceAThreadThatFailedOnTheRegistryAndGoOn() throws Exception {
    // Given a topology that fails twice as a serde does while the registry is out, then works
    String topic = "runner-registry-" + UUID.randomUUID();
    AtomicInteger calls = new AtomicInteger();
    List<KafkaStreams.State> seen = new CopyOnWriteArrayList<>();
    try (StreamsRunner runner =
        new StreamsRunner(
            "test",
            topology(
                topic,
                () -> {
                  if (calls.incrementAndGet() <= 2) {
                    throw new RetriableSerializationException("registry out (test)", null);
                  }
                }),
            props(),
            Duration.ofSeconds(10),
            (now, before) -> seen.add(now),
            new StreamThreadFailurePolicy.Settings(
                3, Duration.ofMinutes(1), Duration.ofMillis(100), Duration.ofMillis(200)))) {
      runner.start();

      // When a record arrives
      send(topic);

      // Then replacement threads read it again until it goes through, and the client runs on.
      // (Kafka Streams rethrows the failure on the replaced thread once its replacement started:
      // an uncaught exception there is expected, not a test failure.)
      await()
          .dontCatchUncaughtExceptions()
          .atMost(Duration.ofSeconds(90))
          .until(() -> calls.get() == 3 && runner.state() == KafkaStreams.State.RUNNING);
      assertThat(runner.failure()).isEmpty();
      assertThat(seen).doesNotContain(KafkaStreams.State.ERROR);
    }
  }

  @Test
  void shouldStopTheClientWhenTheRegistryStaysOutBeyondTheBound() throws Exception {
    // Given a topology that always fails as a serde does while the registry is out
    String topic = "runner-registry-out-" + UUID.randomUUID();
    AtomicInteger calls = new AtomicInteger();
    try (StreamsRunner runner =
        new StreamsRunner(
            "test",
            topology(
                topic,
                () -> {
                  calls.incrementAndGet();
                  throw new RetriableSerializationException("registry out (test)", null);
                }),
            props(),
            Duration.ofSeconds(10),
            (now, before) -> {},
            new StreamThreadFailurePolicy.Settings(
                2, Duration.ofMinutes(5), Duration.ofMillis(50), Duration.ofMillis(50)))) {
      runner.start();

      // When a record arrives
      send(topic);

      // Then after two replacements the third failure stops the client and is kept
      Throwable failure = runner.awaitTermination();
      assertThat(StreamThreadFailurePolicy.registryUnreachable(failure)).isTrue();
      assertThat(calls.get()).isEqualTo(3);
      assertThat(runner.failure()).containsSame(failure);
    }
  }

  @Test
  void shouldReportAnOrderlyStopAsNoFailureAndStopOnlyOnce() throws Exception {
    // Given a running client
    List<KafkaStreams.State> seen = new CopyOnWriteArrayList<>();
    StreamsRunner runner =
        new StreamsRunner(
            "test",
            topology("runner-stop-" + UUID.randomUUID(), () -> {}),
            props(),
            Duration.ofSeconds(30),
            (now, before) -> seen.add(now));
    runner.start();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> runner.state() == KafkaStreams.State.RUNNING);

    // When it is stopped twice
    boolean first = runner.stop();
    boolean second = runner.stop();

    // Then it closed in time, once, and the wait for it reports no failure
    assertThat(first).isTrue();
    assertThat(second).isTrue();
    assertThat(runner.awaitTermination()).isNull();
    assertThat(runner.state()).isEqualTo(KafkaStreams.State.NOT_RUNNING);
    // Kafka Streams sets the state (which releases close()) before it calls the listener, from
    // its own shutdown thread: wait for the callback, then check it came once.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> seen.contains(KafkaStreams.State.NOT_RUNNING));
    assertThat(seen).containsOnlyOnce(KafkaStreams.State.NOT_RUNNING);
  }

  @Test
  void shouldSayWhenTheCloseTimeoutExpires() throws Exception {
    // Given a stream thread stuck in a record
    String topic = "runner-stuck-" + UUID.randomUUID();
    CountDownLatch inRecord = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    StreamsRunner runner =
        new StreamsRunner(
            "test",
            topology(
                topic,
                () -> {
                  inRecord.countDown();
                  try {
                    release.await(60, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }),
            props(),
            Duration.ofMillis(200),
            (now, before) -> {});
    try {
      runner.start();
      send(topic);
      assertThat(inRecord.await(60, TimeUnit.SECONDS)).isTrue();

      // When it is stopped
      boolean inTime = runner.stop();

      // Then the stop says it did not finish within the timeout
      assertThat(inTime).isFalse();
    } finally {
      release.countDown();
      runner.streams().close(Duration.ofSeconds(30));
    }
  }

  @Test
  void shouldRestoreTheInterruptFlagAfterStopping() {
    // Given a client that was never started, and an interrupted caller
    StreamsRunner runner =
        new StreamsRunner(
            "test",
            topology("runner-interrupt-" + UUID.randomUUID(), () -> {}),
            props(),
            Duration.ofSeconds(10),
            (now, before) -> {});
    Thread.currentThread().interrupt();

    // When
    boolean inTime = runner.stop();

    // Then the close was not cut short, and the caller still sees its interrupt
    assertThat(inTime).isTrue();
    assertThat(Thread.interrupted()).isTrue();
  }
}
