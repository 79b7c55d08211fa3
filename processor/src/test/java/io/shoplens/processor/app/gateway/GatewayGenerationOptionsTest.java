package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.topology.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A question's generation options and an upload's caption options over HTTP, on a real in-process
 * broker: valid ones are published in {@code QuestionAsked} / {@code ImageUploaded} as sent;
 * invalid ones (unknown names, wrong types, values or combinations ShopLens would dead-letter under
 * the same answer or caption settings) are refused with 400 {@code invalid_generation_options} /
 * {@code invalid_caption_options}, saying what was expected and what came, and publish nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayGenerationOptionsTest {
  private static final int MAX_NEW_TOKENS_LIMIT = 16;
  private static final String URL_UPLOAD =
      "{\"imageUrl\": \"https://images.shop.example/dress.png\", \"sha256\": \""
          + "0".repeat(64)
          + "\", \"sizeBytes\": 2048, \"contentType\": \"image/png\"";

  private static EmbeddedKafkaCluster kafka;
  private static Map<String, Object> clientProps;
  private static GatewayServer gateway;
  private static GatewayClient client;
  private static String uploadId;

  @BeforeAll
  static void startGateway() {
    kafka = new EmbeddedKafkaCluster().start();
    createTopics(
        kafka,
        1,
        List.of(
            Topics.IMAGE_UPLOADS,
            Topics.QUESTIONS,
            Topics.CAPTIONS,
            Topics.ANSWERS,
            Topics.RECOMMENDATIONS,
            Topics.DEAD_LETTERS));
    clientProps = new HashMap<>();
    clientProps.put("bootstrap.servers", kafka.bootstrapServers());
    clientProps.put("schema.registry.url", "mock://gateway-options-" + UUID.randomUUID());
    gateway =
        GatewayServer.start(
            GatewayConfig.builder()
                .port(0)
                .requestsPerMinute(0)
                .answerOptions(DecodingOptions.greedy().withMaxNewTokens(8))
                // Longer than the answers' so that a test can tell which defaults were applied
                .captionOptions(DecodingOptions.greedy().withMaxNewTokens(12))
                .maxNewTokensLimit(MAX_NEW_TOKENS_LIMIT)
                .build(),
            clientProps);
    client = new GatewayClient(gateway.port());
    await().atMost(Duration.ofSeconds(60)).until(gateway::ready);
    GatewayClient.Reply uploaded =
        client.upload(GatewayBadInputTest.image("tiny.png"), "tiny.png", "image/png");
    assertThat(uploaded.status()).as(uploaded.json().toString()).isEqualTo(201);
    uploadId = uploaded.json().path("uploadId").asText();
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldPublishBeamAndSamplingOptionsInTheQuestionAsSent() {
    // Given a beam-search question and a sampling question with a seed
    String beam =
        "{\"strategy\": \"beam\", \"numBeams\": 3, \"numReturnSequences\": 2,"
            + " \"lengthPenalty\": 0.8, \"earlyStopping\": true, \"maxNewTokens\": 12}";
    String sample =
        "{\"strategy\": \"SAMPLE\", \"temperature\": 0.7, \"topK\": 20, \"topP\": 0.9,"
            + " \"seed\": 42, \"minNewTokens\": 1, \"repetitionPenalty\": 1.3}";

    // When both are asked over HTTP
    String beamId = ask("beam please", beam);
    String sampleId = ask("sample please", sample);
    String plainId = ask("no options", null);

    // Then each QuestionAsked carries exactly the options sent (none for the plain question)
    Map<String, QuestionAsked> published = publishedQuestions(List.of(beamId, sampleId, plainId));
    assertThat(published.get(beamId).getGenerationOptions())
        .isEqualTo(
            GenerationOptions.newBuilder()
                .setStrategy(DecodingStrategy.BEAM)
                .setNumBeams(3)
                .setNumReturnSequences(2)
                .setLengthPenalty(0.8)
                .setEarlyStopping(true)
                .setMaxNewTokens(12)
                .build());
    assertThat(published.get(sampleId).getGenerationOptions())
        .isEqualTo(
            GenerationOptions.newBuilder()
                .setStrategy(DecodingStrategy.SAMPLE)
                .setTemperature(0.7)
                .setTopK(20)
                .setTopP(0.9)
                .setSeed(42L)
                .setMinNewTokens(1)
                .setRepetitionPenalty(1.3)
                .build());
    assertThat(published.get(plainId).getGenerationOptions()).isNull();
    assertThat(published.get(beamId).getText()).isEqualTo("beam please");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        // ranges, as DecodingOptions states them
        "{\"strategy\": \"sample\", \"temperature\": 0}|temperature must be positive and finite,"
            + " got 0.0",
        "{\"strategy\": \"sample\", \"topP\": 1.5}|topP must be in (0, 1], got 1.5",
        "{\"topK\": -1}|topK must be >= 0, got -1",
        "{\"repetitionPenalty\": 0}|repetitionPenalty must be positive and finite (1 disables),"
            + " got 0.0",
        "{\"strategy\": \"beam\", \"repetitionPenalty\": -1.2}|repetitionPenalty must be"
            + " positive and finite (1 disables), got -1.2",
        "{\"repetitionPenalty\": \"high\"}|generationOptions.repetitionPenalty: expected a"
            + " number, got \"high\"",
        "{\"maxNewTokens\": 0}|maxNewTokens must be in [1, 1024], got 0",
        "{\"minNewTokens\": 9}|minNewTokens must be in [0, maxNewTokens=8], got 9",
        // the configured limit of the ShopLens behind the gateway
        "{\"maxNewTokens\": 17}|maxNewTokens must be at most 16, got 17",
        // combinations
        "{\"strategy\": \"beam\", \"numBeams\": 1}|beam search needs numBeams >= 2, got 1",
        "{\"strategy\": \"beam\", \"numBeams\": 2, \"numReturnSequences\": 3}|numReturnSequences"
            + " must be <= numBeams=2, got 3",
        "{\"numReturnSequences\": 2}|greedy decoding returns one sequence, got"
            + " numReturnSequences=2",
        "{\"strategy\": \"sample\", \"numBeams\": 4}|sampling uses numBeams == 1, got 4",
        // names and types
        "{\"top_p\": 0.5}|generationOptions has no option 'top_p'; expected one of",
        "{\"strategy\": \"nucleus\"}|expected one of greedy, beam, sample, got \"nucleus\"",
        "{\"temperature\": \"warm\"}|generationOptions.temperature: expected a number, got"
            + " \"warm\"",
        "\"beam\"|generationOptions must be a JSON object, got \"beam\"",
      })
  void shouldRefuseInvalidOptionsWith400SayingWhatWasExpectedAndPublishNothing(
      String options, String message) {
    // Given the questions topic's end
    long before = questionsEnd();

    // When a question with invalid options is asked
    GatewayClient.Reply reply =
        client.postJson(
            "/v1/uploads/" + uploadId + "/questions",
            "{\"text\": \"is it red?\", \"generationOptions\": " + options + "}");

    // Then it is refused, says why, publishes nothing, and the gateway keeps serving
    assertThat(reply.status()).as(reply.json().toString()).isEqualTo(400);
    assertThat(reply.code()).isEqualTo("invalid_generation_options");
    assertThat(reply.message()).contains(message);
    assertThat(questionsEnd()).as("questions topic end offset").isEqualTo(before);
    assertThat(ask("still serving?", "{\"strategy\": \"greedy\"}")).isNotBlank();
  }

  @Test
  void shouldPublishCaptionOptionsInTheUploadAsSentByUrlAndByForm() {
    // Given a URL upload and a multipart upload with caption options, and a URL upload without
    String beam =
        "{\"strategy\": \"beam\", \"numBeams\": 3, \"numReturnSequences\": 2,"
            + " \"repetitionPenalty\": 1.3}";
    // 10 new tokens at least: within the caption defaults' 12, beyond the answers' 8
    String form = "{\"minNewTokens\": 10, \"seed\": 7}";

    // When they are uploaded
    String byUrl = uploadByUrl(beam);
    String byForm = uploadByForm(form);
    String plain = uploadByUrl(null);

    // Then each ImageUploaded carries exactly the caption options sent (none for the plain one)
    Map<String, ImageUploaded> published = publishedUploads(List.of(byUrl, byForm, plain));
    assertThat(published.get(byUrl).getCaptionOptions())
        .isEqualTo(
            GenerationOptions.newBuilder()
                .setStrategy(DecodingStrategy.BEAM)
                .setNumBeams(3)
                .setNumReturnSequences(2)
                .setRepetitionPenalty(1.3)
                .build());
    assertThat(published.get(byForm).getCaptionOptions())
        .isEqualTo(GenerationOptions.newBuilder().setMinNewTokens(10).setSeed(7L).build());
    assertThat(published.get(plain).getCaptionOptions()).isNull();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "{\"strategy\": \"sample\", \"topP\": 1.5}|captionOptions: topP must be in (0, 1], got"
            + " 1.5",
        "{\"repetitionPenalty\": 0}|captionOptions: repetitionPenalty must be positive and finite"
            + " (1 disables), got 0.0",
        // the caption defaults (12 new tokens), not the answers' (8)
        "{\"minNewTokens\": 13}|minNewTokens must be in [0, maxNewTokens=12], got 13",
        "{\"maxNewTokens\": 17}|maxNewTokens must be at most 16, got 17",
        "{\"strategy\": \"beam\", \"numBeams\": 1}|beam search needs numBeams >= 2, got 1",
        "{\"top_p\": 0.5}|captionOptions has no option 'top_p'; expected one of",
        "{\"temperature\": \"warm\"}|captionOptions.temperature: expected a number, got \"warm\"",
        "\"beam\"|captionOptions must be a JSON object, got \"beam\"",
      })
  void shouldRefuseInvalidCaptionOptionsWith400ByUrlAndByFormAndPublishNothing(
      String options, String message) {
    // Given the uploads topic's end
    long before = end(Topics.IMAGE_UPLOADS);

    // When an upload with invalid caption options is sent as JSON, then as a form
    GatewayClient.Reply byUrl =
        client.postJson("/v1/uploads", URL_UPLOAD + ", \"captionOptions\": " + options + "}");
    GatewayClient.Reply byForm =
        client.upload(
            GatewayBadInputTest.image("tiny.png"),
            "tiny.png",
            "image/png",
            Map.of("captionOptions", options));

    // Then both are refused, say why, publish nothing, and the gateway keeps serving
    for (GatewayClient.Reply reply : List.of(byUrl, byForm)) {
      assertThat(reply.status()).as(reply.json().toString()).isEqualTo(400);
      assertThat(reply.code()).isEqualTo("invalid_caption_options");
      assertThat(reply.message()).contains(message);
    }
    assertThat(end(Topics.IMAGE_UPLOADS)).as("uploads topic end offset").isEqualTo(before);
    assertThat(uploadByUrl("{\"strategy\": \"greedy\"}")).isNotBlank();
  }

  @Test
  void shouldRefuseAFormsCaptionOptionsThatAreNotJsonWith400() {
    long before = end(Topics.IMAGE_UPLOADS);

    GatewayClient.Reply reply =
        client.upload(
            GatewayBadInputTest.image("tiny.png"),
            "tiny.png",
            "image/png",
            Map.of("captionOptions", "beam please"));

    assertThat(reply.status()).as(reply.json().toString()).isEqualTo(400);
    assertThat(reply.code()).isEqualTo("invalid_caption_options");
    assertThat(reply.message())
        .startsWith("captionOptions: expected a JSON object such as")
        .endsWith("got text that is not JSON");
    assertThat(end(Topics.IMAGE_UPLOADS)).isEqualTo(before);
  }

  // --- helpers ------------------------------------------------------------------------------

  /** A URL upload with {@code captionOptions} (none when null); its uploadId. */
  private static String uploadByUrl(String captionOptions) {
    String body =
        URL_UPLOAD
            + Optional.ofNullable(captionOptions).map(o -> ", \"captionOptions\": " + o).orElse("")
            + "}";
    GatewayClient.Reply r = client.postJson("/v1/uploads", body);
    assertThat(r.status()).as(r.json().toString()).isEqualTo(201);
    return r.json().path("uploadId").asText();
  }

  /** A multipart upload with the {@code captionOptions} form field; its uploadId. */
  private static String uploadByForm(String captionOptions) {
    GatewayClient.Reply r =
        client.upload(
            GatewayBadInputTest.image("tiny.png"),
            "tiny.png",
            "image/png",
            Map.of("captionOptions", captionOptions));
    assertThat(r.status()).as(r.json().toString()).isEqualTo(201);
    return r.json().path("uploadId").asText();
  }

  private static Map<String, ImageUploaded> publishedUploads(List<String> ids) {
    Topics topics = Topics.create(clientProps);
    Map<String, ImageUploaded> seen = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "uploads-")) {
      consumer.subscribe(List.of(Topics.IMAGE_UPLOADS));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                  ImageUploaded u = read(topics.imageUploads(), r);
                  seen.put(u.getUploadId(), u);
                }
                return seen.keySet().containsAll(ids);
              });
    }
    return seen;
  }

  private static String ask(String text, String options) {
    String body =
        "{\"text\": \""
            + text
            + "\""
            + Optional.ofNullable(options).map(o -> ", \"generationOptions\": " + o).orElse("")
            + "}";
    GatewayClient.Reply r = client.postJson("/v1/uploads/" + uploadId + "/questions", body);
    assertThat(r.status()).as(r.json().toString()).isEqualTo(202);
    return r.json().path("questionId").asText();
  }

  private static Map<String, QuestionAsked> publishedQuestions(List<String> ids) {
    Topics topics = Topics.create(clientProps);
    Map<String, QuestionAsked> seen = new HashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "options-")) {
      consumer.subscribe(List.of(Topics.QUESTIONS));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                  QuestionAsked q = read(topics.questions(), r);
                  seen.put(q.getQuestionId(), q);
                }
                return seen.keySet().containsAll(ids);
              });
    }
    return seen;
  }

  private static long questionsEnd() {
    return end(Topics.QUESTIONS);
  }

  private static long end(String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "end-")) {
      TopicPartition tp = new TopicPartition(topic, 0);
      return consumer.endOffsets(List.of(tp)).get(tp);
    }
  }
}
