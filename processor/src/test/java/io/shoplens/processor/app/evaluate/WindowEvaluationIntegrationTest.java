package io.shoplens.processor.app.evaluate;

import static io.shoplens.processor.testing.KafkaTestClients.producer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Product;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.evaluate.EvaluationReport.ModelReport;
import io.shoplens.processor.app.evaluate.EvaluationReport.TypeScore;
import io.shoplens.processor.app.replay.ReplayRequest;
import io.shoplens.processor.app.replay.ReplayRunner;
import io.shoplens.processor.app.replay.ReplaySummary;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import io.shoplens.processor.testing.KafkaTestClients;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shoplens evaluate --replay} on a real in-process KRaft broker: the live application
 * answers with the random tiny model, a replay answers the same window with the trained demo model
 * ({@code models/fashion-blip2-opt}), and the window is scored against the catalog topic.
 *
 * <p>Data: six held-out products (never trained on) in the catalog; one upload of each with three
 * questions in the templates' words (colour, kind, pattern) and, for one of them, a question in
 * other words; an upload of no product and one of a product the catalog does not have, each with a
 * question. Later, outside the replayed window, one more upload that only the live run answered.
 */
class WindowEvaluationIntegrationTest {
  static final Path RANDOM_MODEL = Path.of("src/test/resources/models/tiny-blip2-opt");
  static final Path TRAINED_MODEL = Path.of("..", "models", "fashion-blip2-opt");
  static final Path HELD_OUT = Path.of("src/test/resources/datasets/fashion-heldout");
  static final String LIVE_ID = "shoplens-live";
  static final List<String> PRODUCTS =
      List.of("p00016", "p00042", "p00047", "p00085", "p00149", "p00224");
  static final Map<String, String> QUESTIONS =
      Map.of(
          "colour", "What colour is it?",
          "category", "What is this?",
          "pattern", "What pattern does it have?");
  static final String FREE_QUESTION = "Would this suit a wedding?";

  static EmbeddedKafkaCluster kafka;
  static String registry;
  static Instant t0;
  static ShopLensApplication live;
  static ReplaySummary replay;
  static final Map<String, JsonNode> catalog = new LinkedHashMap<>();

  /** questionId to its type and true answer, for questions with a known truth. */
  static final Map<String, String[]> truths = new LinkedHashMap<>();

  static int questionsAsked;
  static int uploadsMade;

  @TempDir static Path temp;

  @BeforeAll
  static void liveRunWithTheRandomModelThenReplayWithTheTrainedOne() throws Exception {
    kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults()).start();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      TopicAdmin.create(admin, TopicAdmin.newTopics(2, Optional.of((short) 1)), 30_000);
    }
    registry = "mock://window-eval-test-" + UUID.randomUUID();
    t0 = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    for (String line : Files.readAllLines(HELD_OUT.resolve("products.jsonl"))) {
      JsonNode p = new ObjectMapper().readTree(line);
      if (PRODUCTS.contains(p.get("productId").asText())) {
        catalog.put(p.get("productId").asText(), p);
      }
    }
    assertThat(catalog).hasSize(PRODUCTS.size());
    produceInputs();

    live =
        ShopLensApplication.start(
            ShopLensConfig.validate(settings()),
            Map.of(
                StreamsConfig.STATE_DIR_CONFIG,
                temp.resolve("live").toString(),
                StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                100));
    await("live answers and captions")
        .atMost(Duration.ofSeconds(120))
        .until(
            () ->
                readAll(Topics.ANSWERS).size() == questionsAsked
                    && readAll(Topics.CAPTIONS).size() == uploadsMade);

    replay =
        new ReplayRunner(
                ShopLensConfig.validate(settings()),
                new ReplayRequest(
                    t0,
                    t0.plusSeconds(100),
                    Set.of(),
                    TRAINED_MODEL,
                    "replay-trained",
                    false,
                    Duration.ofDays(1),
                    1000),
                new ReplayRunner.Settings(
                    Duration.ofMillis(200),
                    Duration.ofSeconds(30),
                    Map.of(
                        StreamsConfig.STATE_DIR_CONFIG,
                        temp.resolve("replay").toString(),
                        StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
                        100)),
                new PrintWriter(Writer.nullWriter()))
            .run()
            .summary();
    assertThat(replay.completed()).isTrue();
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

  static Map<String, String> settings() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("bootstrap.servers", kafka.bootstrapServers());
    s.put("schema.registry.url", registry);
    s.put("application.id", LIVE_ID);
    s.put("shoplens.model.path", RANDOM_MODEL.toString());
    s.put("shoplens.http.port", "-1");
    s.put("shoplens.attribute.prompts", "colour=What colour is it?");
    s.put("shoplens.state.store.type", "IN_MEMORY");
    s.put("shoplens.shutdown.timeout.ms", "15000");
    return s;
  }

  static void produceInputs() throws Exception {
    Topics topics = Topics.create(Map.of("schema.registry.url", registry));
    try (KafkaProducer<String, Product> products = producer(kafka, topics.catalogProducts());
        KafkaProducer<String, ImageUploaded> uploads = producer(kafka, topics.imageUploads());
        KafkaProducer<String, QuestionAsked> questions = producer(kafka, topics.questions())) {
      for (JsonNode p : catalog.values()) {
        Map<String, String> attributes = new LinkedHashMap<>();
        p.get("attributes")
            .properties()
            .forEach(e -> attributes.put(e.getKey(), e.getValue().asText()));
        Product product =
            Product.newBuilder()
                .setProductId(p.get("productId").asText())
                .setTitle(p.get("title").asText())
                .setCategory(p.get("category").asText())
                .setAttributes(attributes)
                .setInStock(true)
                .build();
        products
            .send(new ProducerRecord<>(Topics.CATALOG_PRODUCTS, product.getProductId(), product))
            .get();
      }
      int i = 0;
      for (JsonNode p : catalog.values()) {
        String productId = p.get("productId").asText();
        String uploadId = "u-" + productId;
        long at = t0.plusSeconds(10L * i++).toEpochMilli();
        upload(
            uploads, uploadId, productId, HELD_OUT.resolve(p.get("image").get("uri").asText()), at);
        int q = 0;
        for (Map.Entry<String, String> e : QUESTIONS.entrySet()) {
          String questionId = "q-" + productId + "-" + e.getKey();
          ask(questions, questionId, uploadId, e.getValue(), at + 1000 + q++);
          String truth =
              e.getKey().equals("category")
                  ? p.get("attributes").get("category").asText()
                  : p.get("attributes").get(e.getKey()).asText();
          truths.put(questionId, new String[] {e.getKey(), truth});
        }
        if (i == 1) {
          ask(questions, "q-free", uploadId, FREE_QUESTION, at + 2000);
        }
      }
      Path image = HELD_OUT.resolve(catalog.get("p00016").get("image").get("uri").asText());
      long at = t0.plusSeconds(70).toEpochMilli();
      upload(uploads, "u-no-product", null, image, at);
      ask(questions, "q-no-product", "u-no-product", "What colour is it?", at + 1000);
      upload(uploads, "u-not-in-catalog", "p99999", image, at + 2000);
      ask(questions, "q-not-in-catalog", "u-not-in-catalog", "What colour is it?", at + 3000);
      // Outside the replayed window: only the live run answers it.
      at = t0.plusSeconds(200).toEpochMilli();
      upload(uploads, "u-later", "p00016", image, at);
      ask(questions, "q-later", "u-later", "What colour is it?", at + 1000);
    }
  }

  static void upload(
      KafkaProducer<String, ImageUploaded> producer,
      String uploadId,
      String productId,
      Path image,
      long at)
      throws Exception {
    producer
        .send(
            new ProducerRecord<>(
                Topics.IMAGE_UPLOADS,
                null,
                at,
                uploadId,
                InputEvents.inlineUpload(
                    uploadId, "user", productId, Files.readAllBytes(image), "image/png")))
        .get();
    uploadsMade++;
  }

  static void ask(
      KafkaProducer<String, QuestionAsked> producer,
      String questionId,
      String uploadId,
      String text,
      long at)
      throws Exception {
    producer
        .send(
            new ProducerRecord<>(
                Topics.QUESTIONS,
                null,
                at,
                uploadId,
                InputEvents.question(questionId, uploadId, "user", null, text)))
        .get();
    questionsAsked++;
  }

  static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    return KafkaTestClients.readAllCommitted(kafka, topic);
  }

  /** Every answer on the topic by question id, of the live run (null) or a replay run id. */
  static Map<String, String> answers(String runId) {
    Topics topics = Topics.create(Map.of("schema.registry.url", registry));
    Map<String, String> out = new LinkedHashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : readAll(Topics.ANSWERS)) {
      QuestionAnswered a =
          topics.answers().valueSerde().deserializer().deserialize(r.topic(), r.value());
      if (Objects.equals(a.getLineage().getReplayRunId(), runId)) {
        out.put(a.getQuestionId(), a.getAnswer());
      }
    }
    return out;
  }

  /** Every caption by upload id, of the live run (null) or a replay run id. */
  static Map<String, String> captions(String runId) {
    Topics topics = Topics.create(Map.of("schema.registry.url", registry));
    Map<String, String> out = new LinkedHashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : readAll(Topics.CAPTIONS)) {
      ImageCaptioned c =
          topics.captions().valueSerde().deserializer().deserialize(r.topic(), r.value());
      if (Objects.equals(c.getLineage().getReplayRunId(), runId)) {
        out.put(c.getUploadId(), c.getCaption());
      }
    }
    return out;
  }

  static WindowEvaluation.Result evaluate(Instant from, Instant to, List<String> runIds)
      throws InterruptedException {
    return new WindowEvaluation(
            ShopLensConfig.validate(settings()),
            new WindowEvaluation.Request(
                from, to, Duration.ofDays(1), runIds, List.of(), Duration.ofSeconds(30)),
            new Evaluation(
                AttributeVocabulary.defaults(),
                QuestionTemplates.defaults(),
                new Evaluation.Options(0, 64, 100, 50),
                Writer.nullWriter()),
            QuestionTemplates.defaults(),
            AttributeVocabulary.defaults(),
            new PrintWriter(Writer.nullWriter()))
        .run();
  }

  @Test
  void shouldScoreLiveAndReplayOnUploadsOfCatalogProductsAndCountTheRestAsTruthUnknown()
      throws Exception {
    // When the replayed window is evaluated
    WindowEvaluation.Result result = evaluate(t0, t0.plusSeconds(100), List.of());

    // Then both versions were found, the live run first, with what they produced in the window
    String randomVersion = "tiny-blip2-opt-s1234-c037f963";
    String trainedVersion = replay.modelVersion();
    assertThat(trainedVersion).startsWith("fashion-blip2-opt");
    assertThat(result.compared())
        .containsExactly(
            new WindowEvaluation.Version(randomVersion, null),
            new WindowEvaluation.Version(trainedVersion, replay.runId()));
    // 6 x 3 template questions + the free one + 2 about uploads without truth; 8 uploads
    assertThat(result.versions())
        .containsExactly(
            new WindowEvaluation.VersionCount(result.compared().get(0), 21, 8),
            new WindowEvaluation.VersionCount(result.compared().get(1), 21, 8));

    // And outputs without a known truth were counted and skipped, by reason
    assertThat(result.truthUnknown())
        .isEqualTo(
            Map.of(
                WindowEvaluation.NO_PRODUCT, 2,
                WindowEvaluation.NOT_IN_CATALOG, 2,
                WindowEvaluation.FREE_QUESTION, 1));

    // And each type was scored on the answers actually on the topic
    EvaluationReport report = result.report();
    assertThat(report.rows()).isEqualTo(6 * 3 + 6);
    Map<String, String> liveAnswers = answers(null);
    Map<String, String> replayAnswers = answers(replay.runId());
    ModelReport random = report.models().get(0);
    ModelReport trained = report.models().get(1);
    assertThat(random.modelVersion()).isEqualTo(randomVersion);
    assertThat(trained.modelVersion()).isEqualTo(trainedVersion);
    for (String type : QUESTIONS.keySet()) {
      assertThat(random.types().get(type))
          .isEqualTo(
              new TypeScore(
                  type, 6, exact(type, liveAnswers), random.types().get(type).normalised()));
      assertThat(trained.types().get(type).rows()).isEqualTo(6);
      assertThat(trained.types().get(type).exact()).as(type).isEqualTo(exact(type, replayAnswers));
      assertThat(trained.types().get(type).normalised())
          .isGreaterThanOrEqualTo(trained.types().get(type).exact());
    }
    assertThat(random.types().get("caption").rows()).isEqualTo(6);

    // And the trained model scores well above the random one on colour and kind
    assertThat(trained.accuracy("colour")).isGreaterThanOrEqualTo(5 / 6.0);
    assertThat(trained.accuracy("category")).isGreaterThanOrEqualTo(5 / 6.0);
    assertThat(trained.accuracy("caption")).isGreaterThanOrEqualTo(4 / 6.0);
    assertThat(random.accuracy("colour")).isLessThanOrEqualTo(1 / 6.0);
    assertThat(random.accuracy("category")).isLessThanOrEqualTo(1 / 6.0);

    // And the disagreements are the rows whose answers differ, each listed with its truth
    Map<String, String> liveCaptions = captions(null);
    Map<String, String> replayCaptions = captions(replay.runId());
    int differ = 0;
    for (String q : truths.keySet()) {
      differ += liveAnswers.get(q).strip().equalsIgnoreCase(replayAnswers.get(q).strip()) ? 0 : 1;
    }
    for (String productId : PRODUCTS) {
      String u = "u-" + productId;
      differ += liveCaptions.get(u).strip().equalsIgnoreCase(replayCaptions.get(u).strip()) ? 0 : 1;
    }
    EvaluationReport.Comparison comparison = report.comparison();
    assertThat(comparison.first()).isEqualTo(randomVersion);
    assertThat(comparison.second()).isEqualTo(trainedVersion);
    assertThat(comparison.rows()).isEqualTo(24);
    assertThat(comparison.disagreements()).isEqualTo(differ).isGreaterThan(0);
    assertThat(comparison.listed()).hasSize(differ);
    assertThat(comparison.onlySecondRight()).isGreaterThan(comparison.onlyFirstRight());
    EvaluationReport.Disagreement colour =
        comparison.listed().stream()
            .filter(d -> d.productId().equals("p00016") && d.type().equals("colour"))
            .findFirst()
            .orElseThrow();
    assertThat(colour.question()).isEqualTo("What colour is it?");
    assertThat(colour.truth()).isEqualTo("black");
    assertThat(colour.first()).isEqualTo(liveAnswers.get("q-p00016-colour"));
    assertThat(colour.second()).isEqualTo(replayAnswers.get("q-p00016-colour"));
  }

  private static int exact(String type, Map<String, String> answers) {
    int n = 0;
    for (Map.Entry<String, String[]> t : truths.entrySet()) {
      if (t.getValue()[0].equals(type)
          && answers.get(t.getKey()).strip().equalsIgnoreCase(t.getValue()[1])) {
        n++;
      }
    }
    return n;
  }

  @Test
  void shouldPrintTheReportOfTheReplayAgainstTheLiveRunFromTheCommandLine() {
    // When
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        run(
            List.of(
                "--from",
                t0.toString(),
                "--to",
                t0.plusSeconds(100).toString(),
                "--run-id",
                replay.runId()),
            out,
            err);

    // Then
    assertThat(code).as(err.toString()).isEqualTo(ShopLensCli.OK);
    assertThat(out.toString())
        .contains("live (model version tiny-blip2-opt-s1234-c037f963): 21 answers, 8 captions")
        .contains(
            replay.runId()
                + " (model version "
                + replay.modelVersion()
                + "): 21 answers, 8 captions")
        .contains("model A: live (version tiny-blip2-opt-s1234-c037f963)")
        .contains("model B: " + replay.runId())
        .containsPattern("colour +6 ")
        .contains("disagree on")
        .contains("5 rows skipped, truth unknown:")
        .contains("1 question not in a template's words")
        .contains("2 product not in the catalog")
        .contains("2 upload of no catalog product");
  }

  @Test
  void shouldRefuseAWindowWithOnlyTheLiveRun() {
    StringWriter err = new StringWriter();
    int code = run(List.of("--from", t0.plusSeconds(150).toString()), new StringWriter(), err);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString())
        .contains(
            "only one version in the window: live (model version tiny-blip2-opt-s1234-c037f963)");
  }

  @Test
  void shouldRefuseAWindowWithoutOutputs() {
    StringWriter err = new StringWriter();
    int code =
        run(
            List.of(
                "--from",
                t0.minus(Duration.ofDays(2)).toString(),
                "--to",
                t0.minus(Duration.ofDays(1)).toString()),
            new StringWriter(),
            err);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("no answers or captions in the window");
  }

  @Test
  void shouldRefuseARunIdThatIsNotInTheWindow() {
    StringWriter err = new StringWriter();
    int code =
        run(
            List.of("--from", t0.toString(), "--run-id", "replay-19700101T000000Z-00000000"),
            new StringWriter(),
            err);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("fewer than two versions match").contains(replay.runId());
  }

  @Test
  void shouldRefuseAWindowThatEndsBeforeItStartsOrADatasetBesideReplay() {
    StringWriter err = new StringWriter();
    int code =
        run(
            List.of("--from", t0.toString(), "--to", t0.minusSeconds(1).toString()),
            new StringWriter(),
            err);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("expected --to after --from");

    StringWriter err2 = new StringWriter();
    code = run(List.of("--from", t0.toString(), "--data", "somewhere"), new StringWriter(), err2);
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(err2.toString()).contains("--replay reads the outputs from Kafka");
  }

  @Test
  void shouldFailWithinTheTimeoutWhenTheClusterIsUnreachable() {
    StringWriter err = new StringWriter();
    List<String> args = new ArrayList<>(List.of("evaluate", "--replay"));
    settings().forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    args.addAll(
        List.of(
            "--set", "bootstrap.servers=127.0.0.1:1", "--from", t0.toString(), "--timeout", "2s"));
    int code =
        ShopLensCli.execute(
            args.toArray(String[]::new),
            Map.of(),
            new PrintWriter(new StringWriter()),
            new PrintWriter(err));
    assertThat(code).isEqualTo(ShopLensCli.FAILURE);
    assertThat(err.toString()).contains("no answer from the cluster within PT2S");
  }

  static int run(List<String> options, StringWriter out, StringWriter err) {
    List<String> args = new ArrayList<>(List.of("evaluate", "--replay"));
    settings().forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    args.addAll(options);
    return ShopLensCli.execute(
        args.toArray(String[]::new), Map.of(), new PrintWriter(out), new PrintWriter(err));
  }
}
