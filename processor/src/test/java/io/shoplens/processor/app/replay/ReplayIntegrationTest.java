package io.shoplens.processor.app.replay;

import static io.shoplens.processor.testing.KafkaTestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import io.shoplens.processor.testing.KafkaTestClients;
import io.shoplens.processor.topology.LineageHeaders;
import io.shoplens.processor.topology.Topics;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays on a real in-process broker with two tiny bundles: A (seed 1234, the live model) and B
 * (seed 4321). One broker and one live run are shared; each test replays under its own application
 * id, as operators would.
 *
 * <p>Data: six uploads ten seconds apart, each followed by two questions (one of them sampled, with
 * no seed of its own), and one late question about the first upload. The window [T0+20s, T0+40s)
 * holds uploads 2 and 3 (the same image bytes: the result cache must hit), their four questions,
 * and the late question about upload 0, which lies before the window (found through the upload
 * lookback, not captioned).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReplayIntegrationTest {
  static final Path MODEL_A = Path.of("src/test/resources/models/tiny-blip2-opt");
  static final Path MODEL_B = Path.of("src/test/resources/models/tiny-blip2-opt-b");
  static final Path MODEL_T5 = Path.of("src/test/resources/models/tiny-blip2-t5");
  static final Path IMAGES = Path.of("src/test/resources/images");
  static final String LIVE_ID = "shoplens-live";
  static final String[] IMAGE_FILES = {
    "gray.png", "wide.png", "photo.jpg", "photo.jpg", "alpha.png", "palette.png"
  };

  static EmbeddedKafkaCluster kafka;
  static String registry;
  static Instant t0;
  static Path liveState;
  static ShopLensApplication live;
  static Map<TopicPartition, OffsetAndMetadata> liveOffsets;
  static final Set<String> IN_WINDOW = Set.of("q2a", "q2b", "q3a", "q3b", "q0late");
  static final Set<String> ALL_QUESTIONS = new java.util.TreeSet<>();

  @TempDir Path temp;

  @BeforeAll
  static void liveRunWithModelA() throws Exception {
    kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults()).start();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      TopicAdmin.create(admin, TopicAdmin.newTopics(2, Optional.of((short) 1)), 30_000);
    }
    registry = "mock://replay-test-" + UUID.randomUUID();
    t0 = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    produceInputs();

    liveState = Files.createTempDirectory("shoplens-live-state");
    live =
        ShopLensApplication.start(
            ShopLensConfig.validate(settings(LIVE_ID, MODEL_A)),
            Map.of(
                StreamsConfig.STATE_DIR_CONFIG,
                liveState.toString(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                100));
    await("live answers and captions")
        .atMost(Duration.ofSeconds(90))
        .until(() -> answers().size() == ALL_QUESTIONS.size() && captions().size() == 6);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      await("live offsets committed")
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                liveOffsets = committed(admin, LIVE_ID);
                return liveOffsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum()
                    == 6 + ALL_QUESTIONS.size();
              });
    }
  }

  @AfterAll
  static void stop() {
    if (live != null) {
      live.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  static Map<String, String> settings(String applicationId, Path model) {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("bootstrap.servers", kafka.bootstrapServers());
    s.put("schema.registry.url", registry);
    s.put("application.id", applicationId);
    s.put("shoplens.model.path", model.toString());
    s.put("shoplens.http.port", "-1");
    s.put("shoplens.attribute.prompts", "colour=What colour is it?");
    s.put("shoplens.state.store.type", "IN_MEMORY");
    s.put("shoplens.shutdown.timeout.ms", "15000");
    return s;
  }

  static void produceInputs() throws Exception {
    Topics topics = Topics.create(Map.of("schema.registry.url", registry));
    try (KafkaProducer<String, ImageUploaded> uploads = producer(kafka, topics.imageUploads());
        KafkaProducer<String, QuestionAsked> questions = producer(kafka, topics.questions())) {
      for (int i = 0; i < IMAGE_FILES.length; i++) {
        String uploadId = "u" + i;
        long at = t0.plusSeconds(10L * i).toEpochMilli();
        byte[] image = Files.readAllBytes(IMAGES.resolve(IMAGE_FILES[i]));
        uploads
            .send(
                new ProducerRecord<>(
                    Topics.IMAGE_UPLOADS,
                    null,
                    at,
                    uploadId,
                    InputEvents.inlineUpload(
                        uploadId, "user", null, image, InputEvents.contentType(IMAGE_FILES[i]))))
            .get();
        ask(questions, "q" + i + "a", uploadId, "what is it?", null, at + 1000);
        ask(
            questions,
            "q" + i + "b",
            uploadId,
            "what colour is it?",
            GenerationOptions.newBuilder().setStrategy(DecodingStrategy.SAMPLE).setTopK(0).build(),
            at + 2000);
        if (i == 2) {
          // In the window, about an upload before it.
          ask(questions, "q0late", "u0", "is it new?", null, at + 5000);
        }
      }
    }
  }

  static void ask(
      KafkaProducer<String, QuestionAsked> producer,
      String questionId,
      String uploadId,
      String text,
      GenerationOptions options,
      long at)
      throws Exception {
    QuestionAsked q = InputEvents.question(questionId, uploadId, "user", null, text);
    q.setGenerationOptions(options);
    producer.send(new ProducerRecord<>(Topics.QUESTIONS, null, at, uploadId, q)).get();
    ALL_QUESTIONS.add(questionId);
  }

  /** Every answer on the topic so far, with its replay run id header (null for the live run). */
  record Answer(QuestionAnswered value, String runIdHeader) {}

  static List<Answer> answers() {
    Topics topics = Topics.create(Map.of("schema.registry.url", registry));
    List<Answer> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : readAll(Topics.ANSWERS)) {
      out.add(
          new Answer(
              topics.answers().valueSerde().deserializer().deserialize(r.topic(), r.value()),
              LineageHeaders.get(r.headers(), LineageHeaders.REPLAY_RUN_ID)));
    }
    return out;
  }

  static List<ImageCaptioned> captions() {
    Topics topics = Topics.create(Map.of("schema.registry.url", registry));
    return readAll(Topics.CAPTIONS).stream()
        .map(r -> topics.captions().valueSerde().deserializer().deserialize(r.topic(), r.value()))
        .toList();
  }

  static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    return KafkaTestClients.readAllCommitted(kafka, topic);
  }

  static Map<TopicPartition, OffsetAndMetadata> committed(Admin admin, String group)
      throws Exception {
    return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
  }

  ReplayRunner runner(String applicationId, Path model, boolean dryRun, StringWriter console) {
    Map<String, String> liveSettings = settings(LIVE_ID, MODEL_A);
    return new ReplayRunner(
        ShopLensConfig.validate(liveSettings),
        new ReplayRequest(
            t0.plusSeconds(20),
            t0.plusSeconds(40),
            Set.of(),
            model,
            applicationId,
            dryRun,
            Duration.ofDays(1),
            1000),
        new ReplayRunner.Settings(
            Duration.ofMillis(200),
            Duration.ofSeconds(30),
            Map.of(
                StreamsConfig.STATE_DIR_CONFIG,
                temp.resolve(applicationId).toString(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                100)),
        new PrintWriter(console, true));
  }

  static Map<String, QuestionAnswered> byQuestion(List<Answer> answers, String runId) {
    return answers.stream()
        .filter(a -> java.util.Objects.equals(a.runIdHeader(), runId))
        .collect(Collectors.toMap(a -> a.value().getQuestionId(), Answer::value));
  }

  @Test
  @Order(1)
  void shouldAnswerWindowWithModelBBesideLiveAnswersAndLeaveLiveOffsetsAlone() throws Exception {
    // Given the live run's answers with model A
    String versionA = answers().get(0).value().getModel().getModelVersion();
    StringWriter dryConsole = new StringWriter();
    ReplayRunner.Result dry = runner("replay-b", MODEL_B, true, dryConsole).run();

    // When
    StringWriter console = new StringWriter();
    ReplaySummary summary = runner("replay-b", MODEL_B, false, console).run().summary();

    // Then: the dry run counted exactly what the run read and processed
    assertThat(dry.summary()).isNull();
    assertThat(dryConsole.toString()).contains("dry run").contains("shoplens.questions.v1-0");
    Map<String, Long> planned = dry.plan().recordsPerTopic();
    assertThat(planned).containsEntry(Topics.IMAGE_UPLOADS, 2L).containsEntry(Topics.QUESTIONS, 5L);
    summary
        .inputs()
        .forEach(
            (topic, c) -> {
              assertThat(c.read()).as(topic).isEqualTo(planned.get(topic));
              assertThat(c.processed()).as(topic).isEqualTo(planned.get(topic));
            });
    assertThat(summary.completed()).isTrue();
    assertThat(summary.answers()).isEqualTo(5);
    assertThat(summary.captions()).isEqualTo(2);
    assertThat(summary.deadLetters()).isZero();
    assertThat(summary.unanswered()).isZero();
    assertThat(summary.cacheHits())
        .as("upload 3 repeats upload 2's image")
        .isGreaterThanOrEqualTo(2);
    assertThat(summary.modelVersion()).isEqualTo("tiny-blip2-opt-s4321-72ca9d25");
    assertThat(console.toString())
        .contains("replay run id " + summary.runId())
        .contains("progress:")
        .contains("2 captions, 5 answers, 0 dead letters");

    // Every question in the window has answers from both versions; the others only A's
    List<Answer> all = answers();
    Map<String, QuestionAnswered> liveAnswers = byQuestion(all, null);
    Map<String, QuestionAnswered> replayed = byQuestion(all, summary.runId());
    assertThat(liveAnswers.keySet()).isEqualTo(ALL_QUESTIONS);
    assertThat(replayed.keySet()).isEqualTo(IN_WINDOW);
    liveAnswers
        .values()
        .forEach(a -> assertThat(a.getModel().getModelVersion()).isEqualTo(versionA));
    replayed
        .values()
        .forEach(
            a -> {
              assertThat(a.getModel().getModelVersion()).isEqualTo(summary.modelVersion());
              assertThat(a.getLineage().getReplayRunId()).isEqualTo(summary.runId());
            });
    assertThat(all).hasSize(ALL_QUESTIONS.size() + IN_WINDOW.size());
    // Only the window's uploads were captioned again; u0 was read for context only
    assertThat(
            captions().stream()
                .filter(c -> summary.runId().equals(c.getLineage().getReplayRunId()))
                .map(ImageCaptioned::getUploadId))
        .containsExactlyInAnyOrder("u2", "u3");

    // The live application's committed offsets did not move
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      assertThat(committed(admin, LIVE_ID)).isEqualTo(liveOffsets);
    }
  }

  @Test
  @Order(2)
  void shouldReproduceLiveAnswersByteForByteWhenReplayingWithModelA() throws Exception {
    // When
    ReplaySummary summary = runner("replay-a", MODEL_A, false, new StringWriter()).run().summary();

    // Then: same text, alternatives, finish reason, token counts, options (seed included), model
    List<Answer> all = answers();
    Map<String, QuestionAnswered> liveAnswers = byQuestion(all, null);
    Map<String, QuestionAnswered> again = byQuestion(all, summary.runId());
    assertThat(again.keySet()).isEqualTo(IN_WINDOW);
    for (String id : IN_WINDOW) {
      QuestionAnswered a = liveAnswers.get(id);
      QuestionAnswered b = again.get(id);
      assertThat(b.getAnswer().getBytes(StandardCharsets.UTF_8))
          .as(id)
          .isEqualTo(a.getAnswer().getBytes(StandardCharsets.UTF_8));
      assertThat(b.getAlternatives()).as(id).isEqualTo(a.getAlternatives());
      assertThat(b.getFinishReason()).as(id).isEqualTo(a.getFinishReason());
      assertThat(b.getTokenCounts()).as(id).isEqualTo(a.getTokenCounts());
      assertThat(b.getGenerationOptions()).as(id).isEqualTo(a.getGenerationOptions());
      assertThat(b.getModel()).as(id).isEqualTo(a.getModel());
    }
    assertThat(again.get("q2b").getGenerationOptions().getStrategy())
        .isEqualTo(DecodingStrategy.SAMPLE);
  }

  @Test
  @Order(3)
  void shouldRunFromTheCommandLineOnlyTheRequestedUploads() {
    // Given
    List<String> args = new ArrayList<>(cliArgs());
    args.addAll(
        List.of(
            "--from",
            t0.plusSeconds(20).toString(),
            "--to",
            t0.plusSeconds(40).toString(),
            "--uploads",
            "u3",
            "--model",
            MODEL_B.toString(),
            "--application-id",
            "replay-cli",
            "--progress-interval",
            "200ms",
            "--set",
            "state.dir=" + temp.resolve("cli"),
            "--set",
            "commit.interval.ms=100"));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    // When
    int code = run(args, out, err);

    // Then
    assertThat(code).as(err.toString()).isEqualTo(ShopLensCli.OK);
    assertThat(out.toString())
        .contains("only uploads u3")
        .contains("1 captions, 2 answers, 0 dead letters")
        .containsPattern("shoplens.questions.v1 +read 5/5, processed 2, skipped 3");
  }

  @Test
  @Order(4)
  void shouldReplayALiveOptWindowOnAT5BundleWithBothArchitecturesAnswersSideBySide()
      throws Exception {
    // Given the live run's answers from the OPT bundle
    String versionOpt = answers().get(0).value().getModel().getModelVersion();

    // When the window is replayed on the tiny BLIP-2 Flan-T5 bundle
    StringWriter console = new StringWriter();
    ReplaySummary summary = runner("replay-t5", MODEL_T5, false, console).run().summary();

    // Then every question of the window has the live OPT answer and the T5 answer beside it
    assertThat(summary.completed()).isTrue();
    assertThat(summary.modelVersion()).isEqualTo("tiny-blip2-t5-s1234-ef762aea");
    assertThat(summary.answers()).isEqualTo(IN_WINDOW.size());
    assertThat(summary.captions()).isEqualTo(2);
    assertThat(summary.deadLetters()).isZero();
    assertThat(console.toString()).contains("shoplens/tiny-blip2-t5");
    List<Answer> all = answers();
    Map<String, QuestionAnswered> liveAnswers = byQuestion(all, null);
    Map<String, QuestionAnswered> t5 = byQuestion(all, summary.runId());
    assertThat(t5.keySet()).isEqualTo(IN_WINDOW);
    StringBuilder sideBySide = new StringBuilder();
    for (String id : new java.util.TreeSet<>(IN_WINDOW)) {
      QuestionAnswered opt = liveAnswers.get(id);
      QuestionAnswered flan = t5.get(id);
      assertThat(opt.getModel().getModelVersion()).isEqualTo(versionOpt);
      assertThat(flan.getModel().getModelVersion()).isEqualTo(summary.modelVersion());
      assertThat(flan.getModel().getModelId()).isEqualTo("shoplens/tiny-blip2-t5");
      assertThat(flan.getLineage().getReplayRunId()).isEqualTo(summary.runId());
      // The same question and options (seed included), answered by the other architecture
      assertThat(flan.getUploadId()).isEqualTo(opt.getUploadId());
      assertThat(flan.getGenerationOptions()).as(id).isEqualTo(opt.getGenerationOptions());
      sideBySide.append(
          String.format(
              "%-7s OPT %-32s | T5 %s%n",
              id, '"' + opt.getAnswer() + '"', '"' + flan.getAnswer() + '"'));
    }
    System.out.print(sideBySide);
    assertThat(
            captions().stream()
                .filter(c -> summary.runId().equals(c.getLineage().getReplayRunId()))
                .map(c -> c.getModel().getModelVersion()))
        .containsOnly(summary.modelVersion())
        .hasSize(2);
    // The live application's committed offsets did not move
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      assertThat(committed(admin, LIVE_ID)).isEqualTo(liveOffsets);
    }
  }

  @Test
  void shouldRefuseTheLiveApplicationId() {
    StringWriter err = new StringWriter();
    int code = run(replayArgs(LIVE_ID, MODEL_B, t0.toString()), new StringWriter(), err);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("is the live application's id");
  }

  @Test
  void shouldRefuseAWindowWithoutRecords() {
    StringWriter err = new StringWriter();
    String future = Instant.now().plus(Duration.ofDays(1)).toString();
    int code = run(replayArgs("replay-empty", MODEL_B, future), new StringWriter(), err);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("no records in the window");
  }

  @Test
  void shouldRefuseABundleThatFailsValidation() throws Exception {
    // Given a copy of bundle B with one byte of its tokenizer changed
    Path broken = temp.resolve("broken");
    Files.createDirectories(broken);
    try (var files = Files.list(MODEL_B)) {
      for (Path f : files.toList()) {
        Files.copy(f, broken.resolve(f.getFileName()));
      }
    }
    byte[] tokenizer = Files.readAllBytes(broken.resolve("tokenizer.json"));
    tokenizer[10] ^= 1;
    Files.write(broken.resolve("tokenizer.json"), tokenizer);
    StringWriter err = new StringWriter();

    // When
    int code = run(replayArgs("replay-broken", broken, t0.toString()), new StringWriter(), err);

    // Then
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("failed validation").contains("tokenizer.json");
  }

  static List<String> cliArgs() {
    List<String> args = new ArrayList<>(List.of("replay"));
    settings(LIVE_ID, MODEL_A).forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    return args;
  }

  static List<String> replayArgs(String applicationId, Path model, String from) {
    List<String> args = new ArrayList<>(cliArgs());
    args.addAll(
        List.of(
            "--from",
            from,
            "--model",
            model.toString(),
            "--application-id",
            applicationId,
            "--dry-run"));
    return args;
  }

  static int run(List<String> args, StringWriter out, StringWriter err) {
    return ShopLensCli.execute(
        args.toArray(String[]::new), Map.of(), new PrintWriter(out), new PrintWriter(err));
  }
}
