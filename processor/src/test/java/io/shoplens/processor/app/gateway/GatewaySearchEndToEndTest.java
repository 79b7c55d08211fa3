package io.shoplens.processor.app.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.retrieval.ImageFeatures;
import io.shoplens.processor.inference.retrieval.RetrievalService;
import io.shoplens.processor.testing.TinyModelCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Search through the gateway with the real topology on a real in-process broker: the committed tiny
 * generation model captions, the tiny retrieval bundle embeds the catalog and the query (random
 * weights, so the ranking is checked against the model's own similarities, not for meaning). A text
 * search, a search with an uploaded photo and a search with a category ShopLens does not know each
 * come back from ShopLens through {@code POST /v1/search}.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class GatewaySearchEndToEndTest {
  private static final List<String> CATALOG = List.of("wide.png", "alpha.png", "palette.png");
  private static final String TEXT = "a red dress";

  @TempDir Path stateDir;

  @Test
  void shouldSearchByTextAndByAnUploadedPhotoThroughTheGateway() throws Exception {
    try (TinyModelCluster cluster = TinyModelCluster.startWithSearch("gateway-search-e2e-", 2)) {
      cluster.publishCatalog(
          CATALOG.stream()
              .map(name -> cluster.product(name, "https://img.test/" + name, true))
              .toList());

      try (KafkaStreams streams = cluster.streams(stateDir);
          GatewayServer gateway =
              GatewayServer.start(
                  GatewayConfig.builder().port(0).searchTimeout(Duration.ofSeconds(30)).build(),
                  cluster.clientProperties())) {
        streams.start();
        GatewayClient client = new GatewayClient(gateway.port());
        await().atMost(Duration.ofSeconds(30)).until(gateway::ready);
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> embedded(streams) == CATALOG.size());

        // When the shopper searches by text
        GatewayClient.Reply byText =
            client.postJson("/v1/search", "{\"query\": \"" + TEXT + "\", \"limit\": 10}");

        // Then every product comes back, ranked by the retrieval model's own ITC similarity, each
        // with its catalog card
        assertThat(byText.status()).as(byText.json().toString()).isEqualTo(200);
        assertThat(byText.json().path("mode").asText()).isEqualTo("TEXT");
        RetrievalService retrieval = cluster.retrieval();
        assertRanked(byText.json(), retrieval.textFeatures("expected", TEXT).join(), retrieval);
        assertThat(byText.json().path("model").path("modelVersion").asText())
            .isEqualTo(retrieval.modelVersion());
        for (JsonNode p : byText.json().path("products")) {
          assertThat(p.path("product").path("title").asText())
              .isEqualTo(p.path("productId").asText().substring(2));
          assertThat(p.path("reasons").get(0).asText()).startsWith("text similarity");
        }

        // When a photo is uploaded and, once ShopLens has its features, searched with
        GatewayClient.Reply uploaded =
            client.upload(TinyBundle.imageBytes("photo.jpg"), "photo.jpg", "image/jpeg");
        String uploadId = uploaded.json().path("uploadId").asText();
        String body = "{\"uploadId\": \"" + uploadId + "\"}";
        // (409 upload_not_searchable until the upload's features reach ShopLens's global store)
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> client.postJson("/v1/search", body).status() == 200);
        GatewayClient.Reply byPhoto = client.postJson("/v1/search", body);

        // Then the catalog is ranked by the photo's pooled feature
        assertThat(byPhoto.json().path("mode").asText()).isEqualTo("IMAGE");
        float[] pooled =
            retrieval.imageFeatures("upload", TinyBundle.imageBytes("photo.jpg")).join().pooled();
        assertRanked(byPhoto.json(), pooled, retrieval);

        // And a category ShopLens's vocabulary does not know is refused by ShopLens, with 400
        GatewayClient.Reply unknownCategory =
            client.postJson(
                "/v1/search",
                "{\"query\": \"" + TEXT + "\", \"filters\": {\"category\": \"spaceship\"}}");
        assertThat(unknownCategory.status()).isEqualTo(400);
        assertThat(unknownCategory.json().path("code").asText()).isEqualTo("unknown_filter_value");
        assertThat(unknownCategory.json().path("results").path("failureReason").asText())
            .isEqualTo("UNKNOWN_FILTER_VALUE");
        streams.close(Duration.ofSeconds(30));
      }
    }
  }

  /** The products, best first, as the exact max-similarity of their features with {@code query}. */
  private static void assertRanked(JsonNode results, float[] query, RetrievalService retrieval) {
    List<Map.Entry<String, Double>> expected = new ArrayList<>();
    for (String name : CATALOG) {
      ImageFeatures f = retrieval.imageFeatures(name, TinyBundle.imageBytes(name)).join();
      expected.add(Map.entry("p-" + name, (double) f.similarity(query)));
    }
    expected.sort(
        Comparator.comparing((Map.Entry<String, Double> e) -> e.getValue())
            .reversed()
            .thenComparing(Map.Entry::getKey));
    JsonNode products = results.path("products");
    assertThat(products).hasSize(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      assertThat(products.get(i).path("productId").asText()).isEqualTo(expected.get(i).getKey());
      assertThat(products.get(i).path("score").asDouble())
          .isCloseTo(expected.get(i).getValue(), within(1e-5));
    }
  }

  private static long embedded(KafkaStreams streams) {
    return TinyModelCluster.catalog(streams)
        .map(
            store ->
                CATALOG.stream()
                    .map(name -> store.get("p-" + name))
                    .filter(e -> e != null && e.embedding() != null)
                    .count())
        .orElse(-1L);
  }
}
