package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.app.gateway.RefusalChecks.assertRefused;
import static io.shoplens.processor.testing.KafkaTestClients.SHOPLENS_TOPICS;
import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.processor.topology.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every class of bad request on a real in-process broker: each is refused with its 4xx and a JSON
 * {@code {code, message}} that says what was wrong, nothing reaches Kafka (the input topics' end
 * offsets do not move), and the gateway keeps serving.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewayBadInputTest {
  private static final int MAX_IMAGE_BYTES = 4096;
  private static final int MAX_QUESTION_CHARS = 40;
  private static final String API_KEY = "s3cret-key";

  private static EmbeddedKafkaCluster kafka;
  private static Map<String, Object> clientProps;
  private static GatewayServer gateway;
  private static GatewayClient client;

  @BeforeAll
  static void startGateway() {
    kafka = new EmbeddedKafkaCluster().start();
    clientProps = new HashMap<>();
    clientProps.put("bootstrap.servers", kafka.bootstrapServers());
    clientProps.put("schema.registry.url", "mock://gateway-bad-input-" + UUID.randomUUID());
    gateway =
        GatewayServer.start(
            GatewayConfig.builder()
                .port(0)
                .maxImageBytes(MAX_IMAGE_BYTES)
                .maxQuestionChars(MAX_QUESTION_CHARS)
                .requestsPerMinute(0)
                .build(),
            clientProps);
    client = new GatewayClient(gateway.port());
    // The topics come after the gateway, as they may in a fresh deployment: it waits for them.
    createTopics(kafka, 2, SHOPLENS_TOPICS);
  }

  @Test
  void shouldBecomeReadyOnceTheTopicsExistThatAppearedAfterItStarted() {
    await().atMost(Duration.ofSeconds(60)).until(gateway::ready);

    assertThat(client.get("/health/ready").status()).isEqualTo(200);
    assertThat(client.get("/health/live").status()).isEqualTo(200);
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
  void shouldRefuseAnOversizedImageWith413AndPublishNothing() throws IOException {
    byte[] big = new byte[MAX_IMAGE_BYTES + 1];
    System.arraycopy(image("tiny.png"), 0, big, 0, image("tiny.png").length);

    GatewayClient.Reply reply =
        refusedWithoutPublishing(() -> client.upload(big, "big.png", "image/png"));

    assertRefused(reply, 413, "image_too_large", "at most " + MAX_IMAGE_BYTES + " bytes");
  }

  @Test
  void shouldRefuseANonImageWhatEverItsHeaderClaimsWith415() {
    byte[] text = "this is not a picture at all, just some text".getBytes();

    GatewayClient.Reply reply =
        refusedWithoutPublishing(() -> client.upload(text, "photo.jpg", "image/jpeg"));

    assertRefused(reply, 415, "not_an_image", "checked from its bytes");
  }

  @Test
  void shouldRefuseAnEmptyUploadWith400() {
    GatewayClient.Reply reply =
        refusedWithoutPublishing(() -> client.upload(new byte[0], "empty.png", "image/png"));

    assertRefused(reply, 400, "empty_image", "empty");
  }

  @Test
  void shouldRefuseQuestionsAndLookupsForAnUnknownUploadWith404() {
    GatewayClient.Reply ask =
        refusedWithoutPublishing(
            () -> client.postJson("/v1/uploads/no-such-upload/questions", "{\"text\":\"red?\"}"));
    GatewayClient.Reply get = client.get("/v1/uploads/no-such-upload");
    GatewayClient.Reply events = client.get("/v1/uploads/no-such-upload/events");

    assertRefused(ask, 404, "unknown_upload", "no-such-upload");
    assertRefused(get, 404, "unknown_upload", "no-such-upload");
    assertRefused(events, 404, "unknown_upload", "no-such-upload");
  }

  @Test
  void shouldRefuseMalformedJsonWith400NamingWhereItBroke() {
    GatewayClient.Reply reply =
        refusedWithoutPublishing(() -> client.postJson("/v1/uploads", "{\"imageUrl\": "));

    assertRefused(reply, 400, "malformed_json", "not valid JSON");
  }

  @Test
  void shouldRefuseAnOverLongQuestionWith400() {
    String uploadId =
        client.upload(image("tiny.png"), "tiny.png", "image/png").json().path("uploadId").asText();
    String question = "x".repeat(MAX_QUESTION_CHARS + 1);

    GatewayClient.Reply reply =
        refusedWithoutPublishing(
            () ->
                client.postJson(
                    "/v1/uploads/" + uploadId + "/questions", "{\"text\":\"" + question + "\"}"));

    assertRefused(reply, 400, "question_too_long", "at most " + MAX_QUESTION_CHARS + " characters");
  }

  @Test
  void shouldRefuseOversizedBodiesWith413AndUploadsOfUndeclaredLengthWith411() {
    // Given JSON bodies over the limit, one of them streamed without a Content-Length (chunked),
    // and a small upload streamed the same way
    byte[] bigJson =
        ("{\"text\": \"" + "x".repeat(GatewayConfig.MAX_JSON_BYTES) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    String boundary = "b" + UUID.randomUUID();
    byte[] chunkedImage =
        GatewayClient.multipart(boundary, image("tiny.png"), "t.png", "image/png");
    String uploadId =
        client.upload(image("tiny.png"), "tiny.png", "image/png").json().path("uploadId").asText();

    // When they are posted
    GatewayClient.Reply declared =
        refusedWithoutPublishing(
            () ->
                client.postJson(
                    "/v1/uploads/" + uploadId + "/questions",
                    new String(bigJson, StandardCharsets.UTF_8)));
    GatewayClient.Reply chunkedJson =
        refusedWithoutPublishing(
            () ->
                client.postChunked(
                    "/v1/uploads/" + uploadId + "/questions", "application/json", bigJson));
    GatewayClient.Reply chunkedUpload =
        refusedWithoutPublishing(
            () ->
                client.postChunked(
                    "/v1/uploads", "multipart/form-data; boundary=" + boundary, chunkedImage));

    // Then the JSON bodies are refused with 413 saying what the limit is, and the upload, whose
    // size could not be checked before parsing, with 411
    assertRefused(declared, 413, "request_too_large", "at most " + GatewayConfig.MAX_JSON_BYTES);
    assertRefused(chunkedJson, 413, "request_too_large", "at most " + GatewayConfig.MAX_JSON_BYTES);
    assertRefused(chunkedUpload, 411, "length_required", "Content-Length");
  }

  @Test
  void shouldRefuseRequestsWithoutTheApiKeyWith401AndAcceptThemWithIt() {
    try (GatewayServer guarded =
        GatewayServer.start(
            GatewayConfig.builder().port(0).apiKey(new Password(API_KEY)).build(), clientProps)) {
      GatewayClient anonymous = new GatewayClient(guarded.port());
      GatewayClient wrongKey = new GatewayClient(guarded.port(), Map.of("X-API-Key", "guess"));
      GatewayClient bearer =
          new GatewayClient(guarded.port(), Map.of("Authorization", "Bearer " + API_KEY));

      GatewayClient.Reply missing =
          refusedWithoutPublishing(() -> anonymous.upload(image("tiny.png"), "t.png", "image/png"));
      GatewayClient.Reply wrong =
          refusedWithoutPublishing(() -> wrongKey.upload(image("tiny.png"), "t.png", "image/png"));

      assertRefused(missing, 401, "unauthorized", "needs an API key");
      assertRefused(wrong, 401, "unauthorized", "not valid");
      assertThat(missing.json().toString()).doesNotContain(API_KEY);
      assertThat(bearer.upload(image("tiny.png"), "t.png", "image/png").status()).isEqualTo(201);
      // Metrics need the key too; health stays open for probes
      assertRefused(anonymous.get("/metrics"), 401, "unauthorized", "needs an API key");
      assertThat(bearer.get("/metrics").status()).isEqualTo(200);
      assertThat(anonymous.get("/health/live").status()).isEqualTo(200);
    }
  }

  @Test
  void shouldRefuseTooManyRequestsFromOneClientWith429() {
    try (GatewayServer limited =
        GatewayServer.start(
            GatewayConfig.builder().port(0).requestsPerMinute(2).build(), clientProps)) {
      GatewayClient c = new GatewayClient(limited.port());
      assertThat(c.get("/v1/uploads/a").status()).isEqualTo(404);
      assertThat(c.get("/v1/uploads/b").status()).isEqualTo(404);

      GatewayClient.Reply reply =
          refusedWithoutPublishing(() -> c.upload(image("tiny.png"), "t.png", "image/png"));

      assertRefused(reply, 429, "too_many_requests", "more than 2 requests");
      assertThat(reply.headers().get("retry-after")).containsExactly("60");
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * Runs the request; asserts that nothing reached the input topics and the gateway still serves.
   */
  private static GatewayClient.Reply refusedWithoutPublishing(
      Supplier<GatewayClient.Reply> request) {
    GatewayClient.Reply reply =
        new RefusalChecks(
                kafka.bootstrapServers(), List.of(Topics.IMAGE_UPLOADS, Topics.QUESTIONS), 2)
            .withoutPublishing(request);
    assertThat(client.get("/health/live").status()).as("still serving").isEqualTo(200);
    return reply;
  }

  static byte[] image(String name) {
    try (InputStream in = GatewayBadInputTest.class.getResourceAsStream("/images/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
