package io.shoplens.processor.app.runtime;

import static io.shoplens.processor.testing.KafkaTestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.app.client.OutputWatcher;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.processor.topology.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The application on a real in-process broker: health, metrics, graceful shutdown. */
class ShopLensApplicationTest {
  static final Path TINY = Path.of("src/test/resources/models/tiny-blip2-opt");
  static final Path PHOTO = Path.of("src/test/resources/images/photo.jpg");
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static EmbeddedKafkaCluster kafka;
  static String registry;

  @TempDir Path stateDir;

  @BeforeAll
  static void startKafka() throws Exception {
    kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults()).start();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      TopicAdmin.create(admin, TopicAdmin.newTopics(1, Optional.of((short) 1)), 30_000);
    }
    registry = "mock://app-test-" + UUID.randomUUID();
  }

  @AfterAll
  static void stopKafka() {
    if (kafka != null) {
      kafka.close();
    }
  }

  ShopLensConfig config(String applicationId, String attributePrompts) {
    Map<String, String> s = new HashMap<>();
    s.put("bootstrap.servers", kafka.bootstrapServers());
    s.put("schema.registry.url", registry);
    s.put("application.id", applicationId);
    s.put("shoplens.model.path", TINY.toString());
    s.put("shoplens.http.port", "0");
    s.put("shoplens.attribute.prompts", attributePrompts);
    s.put("shoplens.state.store.type", "IN_MEMORY");
    s.put("shoplens.shutdown.timeout.ms", "15000");
    return ShopLensConfig.validate(s);
  }

  Map<String, Object> overrides() {
    return Map.of(
        StreamsConfig.STATE_DIR_CONFIG,
        stateDir.toString(),
        StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
        100);
  }

  void publish(ShopLensConfig config, ImageUploaded upload, QuestionAsked... questions)
      throws Exception {
    Topics topics = Topics.create(config.kafkaProperties());
    try (KafkaProducer<String, ImageUploaded> uploads = producer(kafka, topics.imageUploads());
        KafkaProducer<String, QuestionAsked> asks = producer(kafka, topics.questions())) {
      uploads.send(new ProducerRecord<>(Topics.IMAGE_UPLOADS, upload.getUploadId(), upload)).get();
      for (QuestionAsked q : questions) {
        asks.send(new ProducerRecord<>(Topics.QUESTIONS, q.getUploadId(), q)).get();
      }
    }
  }

  static HttpResponse<String> get(int port, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static List<OutputWatcher.Output> collect(
      OutputWatcher watcher, List<OutputWatcher.Output> seen, String uploadId) {
    for (OutputWatcher.Output o : watcher.poll(Duration.ofMillis(100))) {
      if (o.uploadId().equals(uploadId)) {
        seen.add(o);
      }
    }
    return seen;
  }

  @Test
  void shouldBecomeReadyAndExposeEngineStreamsAndDeadLetterMetricsAfterTraffic() throws Exception {
    // Given
    ShopLensConfig config = config("app-test-metrics", "");
    byte[] photo = Files.readAllBytes(PHOTO);
    String id = "metrics-" + UUID.randomUUID();
    String bad = "metrics-bad-" + UUID.randomUUID();
    try (ShopLensApplication app = ShopLensApplication.start(config, overrides());
        OutputWatcher watcher = new OutputWatcher(config.kafkaProperties(), true)) {
      int port = app.httpPort();
      assertThat(get(port, "/health/live").statusCode()).isEqualTo(200);
      await("ready")
          .atMost(Duration.ofSeconds(60))
          .until(() -> get(port, "/health/ready").statusCode() == 200);
      assertThat(get(port, "/health/ready").body()).contains("\"streams\":\"RUNNING\"");

      // When: a good upload with a question, and a corrupt one
      publish(
          config,
          InputEvents.inlineUpload(id, "u", null, photo, "image/jpeg"),
          InputEvents.question(id + "-q", id, "u", null, "what is it?"));
      publish(
          config,
          InputEvents.inlineUpload(
              bad, "u", null, "junk".getBytes(StandardCharsets.UTF_8), "image/png"));
      List<OutputWatcher.Output> good = new ArrayList<>();
      List<OutputWatcher.Output> dead = new ArrayList<>();
      await("caption, answer and dead letter")
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  collectBoth(watcher, good, id, dead, bad) && good.size() >= 2 && !dead.isEmpty());

      // Then
      String metrics = get(port, "/metrics").body();
      assertThat(metrics)
          .containsPattern("shoplens_engine_requests_total\\{outcome=\"completed\"} [2-9]")
          .contains("shoplens_engine_queue_depth")
          .contains("shoplens_engine_stage_seconds_total{stage=\"decode\"}")
          .contains("shoplens_engine_tokens_generated_total")
          .contains("shoplens_engine_tokens_per_second")
          .contains("shoplens_engine_vision_cache_hit_ratio")
          .contains("shoplens_engine_batch_size_mean")
          .contains("kafka_stream_thread_")
          .contains("jvm_memory_used_bytes");
      assertThat(metrics)
          .containsPattern(
              "shoplens_dead_letters_total\\{topic=\"shoplens.dead-letters.v1\"} [1-9]");
    }
  }

  private static boolean collectBoth(
      OutputWatcher watcher,
      List<OutputWatcher.Output> good,
      String id,
      List<OutputWatcher.Output> dead,
      String bad) {
    for (OutputWatcher.Output o : watcher.poll(Duration.ofMillis(100))) {
      if (o.uploadId().equals(id)) {
        good.add(o);
      } else if (o.uploadId().equals(bad)) {
        dead.add(o);
      }
    }
    return true;
  }

  @Test
  void shouldKeepInFlightWorkAcrossAGracefulShutdown() throws Exception {
    // Given an instance whose engine holds every request, with one upload in flight
    ShopLensConfig config = config("app-test-graceful", "");
    String id = "graceful-" + UUID.randomUUID();
    FakeEngine holding = new FakeEngine().hold();
    try (OutputWatcher watcher = new OutputWatcher(config.kafkaProperties(), true)) {
      ShopLensApplication first =
          ShopLensApplication.start(config, holding, "fake", 10, overrides());
      await("first instance running")
          .atMost(Duration.ofSeconds(60))
          .until(() -> first.state() == KafkaStreams.State.RUNNING);
      publish(
          config, InputEvents.inlineUpload(id, "u", null, Files.readAllBytes(PHOTO), "image/jpeg"));
      await("request in the engine")
          .atMost(Duration.ofSeconds(30))
          .until(() -> !holding.submitted.isEmpty());

      // When it is shut down gracefully before the engine answered
      first.close();

      // Then it stopped, closed its engine, and produced nothing for the upload
      assertThat(first.state()).isEqualTo(KafkaStreams.State.NOT_RUNNING);
      assertThat(first.health().ready()).isFalse();
      assertThat(holding.closed()).isTrue();
      assertThat(collect(watcher, new ArrayList<>(), id)).isEmpty();

      // And the next instance finishes the work: exactly one caption, no dead letter
      FakeEngine answering = new FakeEngine().answering(r -> "a fake caption");
      List<OutputWatcher.Output> seen = new ArrayList<>();
      try (ShopLensApplication second =
          ShopLensApplication.start(config, answering, "fake", 10, overrides())) {
        await("caption after restart")
            .atMost(Duration.ofSeconds(60))
            .until(() -> !collect(watcher, seen, id).isEmpty());
        // A second caption or a dead letter would arrive within a few commit intervals.
        await()
            .pollDelay(Duration.ofMillis(500))
            .atMost(Duration.ofSeconds(2))
            .until(() -> collect(watcher, seen, id) != null);
      }
      assertThat(seen)
          .singleElement()
          .isInstanceOfSatisfying(
              OutputWatcher.Caption.class,
              c -> assertThat(c.value().getCaption()).isEqualTo("a fake caption"));
    }
  }
}
