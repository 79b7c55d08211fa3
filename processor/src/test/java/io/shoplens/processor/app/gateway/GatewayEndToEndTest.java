package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.testing.TinyModelCluster.catalogSize;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.testing.TinyModelCluster;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The happy path on a real in-process broker with the topology and the committed tiny model: a
 * photo uploaded over HTTP is captioned, two questions in one conversation are answered, and the
 * catalog's products are recommended; the results arrive both as Server-Sent Events and in the
 * upload's and questions' JSON, recommendation cards carrying the catalog's title and stock.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GatewayEndToEndTest {
  private static final List<String> CATALOG = List.of("wide.png", "alpha.png");

  @TempDir Path stateDir;

  @Test
  void shouldCaptionAnswerAndRecommendAnUploadedPhotoAndStreamEachResult() throws Exception {
    try (TinyModelCluster cluster = TinyModelCluster.start("gateway-e2e-", 2)) {
      BatchingInferenceEngine engine = cluster.engine();
      cluster.publishCatalog(
          CATALOG.stream()
              .map(name -> cluster.product(name, "https://img.test/" + name, true))
              .toList());

      try (KafkaStreams streams = cluster.streams(stateDir);
          GatewayServer gateway =
              GatewayServer.start(
                  GatewayConfig.builder().port(0).build(), cluster.clientProperties())) {
        streams.start();
        GatewayClient client = new GatewayClient(gateway.port());
        await().atMost(Duration.ofSeconds(30)).until(gateway::ready);
        // The catalog is embedded before the upload, so that there is something to recommend.
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> catalogSize(streams) == CATALOG.size());

        // Given a shopper's photo uploaded over HTTP
        GatewayClient.Reply uploaded =
            client.upload(TinyBundle.imageBytes("photo.jpg"), "photo.jpg", "image/jpeg");
        assertThat(uploaded.status()).as(uploaded.json().toString()).isEqualTo(201);
        String uploadId = uploaded.json().path("uploadId").asText();

        // And a browser listening to its events
        List<String> events = new CopyOnWriteArrayList<>();
        HttpClient http = HttpClient.newHttpClient();
        CompletableFuture<HttpResponse<java.io.InputStream>> stream =
            http.sendAsync(
                HttpRequest.newBuilder(
                        URI.create(client.base() + "/v1/uploads/" + uploadId + "/events"))
                    .header("Accept", "text/event-stream") // as EventSource sends it
                    .build(),
                HttpResponse.BodyHandlers.ofInputStream());
        Thread reader =
            new Thread(
                () -> {
                  try (BufferedReader lines =
                      new BufferedReader(
                          new InputStreamReader(stream.join().body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = lines.readLine()) != null; ) {
                      if (line.startsWith("event:")) {
                        events.add(line.substring(6).trim());
                      }
                    }
                  } catch (java.io.IOException e) {
                    // the stream ends when the test closes the gateway
                  }
                });
        reader.setDaemon(true);
        reader.start();

        // When two questions are asked in one conversation, the second with its own options
        String q1 = ask(client, uploadId, "what is it?", "");
        String q2 =
            ask(
                client,
                uploadId,
                "what colour is it?",
                ",\"generationOptions\":{\"strategy\":\"beam\",\"numBeams\":2,"
                    + "\"numReturnSequences\":2,\"maxNewTokens\":3}");

        // Then the caption, both answers and the recommendations arrive
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  JsonNode u = client.get("/v1/uploads/" + uploadId).json();
                  return u.path("status").asText().equals("captioned")
                      && u.path("recommendations").isObject()
                      && client.get("/v1/questions/" + q1).json().has("answer")
                      && client.get("/v1/questions/" + q2).json().has("answer");
                });
        JsonNode upload = client.get("/v1/uploads/" + uploadId).json();
        assertThat(upload.path("caption").path("caption").asText()).isNotBlank();
        assertThat(upload.path("caption").path("model").path("modelVersion").asText())
            .isEqualTo(engine.modelVersion());
        assertThat(upload.path("questions")).hasSize(2);
        JsonNode answer = client.get("/v1/questions/" + q2).json();
        assertThat(answer.path("status").asText()).isEqualTo("answered");
        assertThat(answer.path("answer").path("conversationId").asText()).isEqualTo("conv-1");
        // ShopLens answered with the options the gateway published, and says so
        JsonNode used = answer.path("answer").path("generationOptions");
        assertThat(used.path("strategy").asText()).isEqualTo("BEAM");
        assertThat(used.path("numBeams").asInt()).isEqualTo(2);
        assertThat(used.path("numReturnSequences").asInt()).isEqualTo(2);
        assertThat(used.path("maxNewTokens").asInt()).isEqualTo(3);
        JsonNode firstUsed =
            client.get("/v1/questions/" + q1).json().path("answer").path("generationOptions");
        assertThat(firstUsed.path("strategy").asText()).isEqualTo("GREEDY");
        JsonNode cards = upload.path("recommendations").path("products");
        assertThat(cards).hasSize(CATALOG.size());
        for (JsonNode card : cards) {
          assertThat(card.path("product").path("title").asText())
              .isEqualTo(card.path("productId").asText().substring(2));
          assertThat(card.path("product").path("inStock").asBoolean()).isTrue();
        }
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(events)
                        .containsExactlyInAnyOrder(
                            "caption", "answer", "answer", "recommendations"));
        streams.close(Duration.ofSeconds(30));
      }
    }
  }

  private static String ask(GatewayClient client, String uploadId, String text, String more) {
    GatewayClient.Reply r =
        client.postJson(
            "/v1/uploads/" + uploadId + "/questions",
            "{\"text\":\"" + text + "\",\"conversationId\":\"conv-1\"" + more + "}");
    assertThat(r.status()).as(r.json().toString()).isEqualTo(202);
    return r.json().path("questionId").asText();
  }
}
