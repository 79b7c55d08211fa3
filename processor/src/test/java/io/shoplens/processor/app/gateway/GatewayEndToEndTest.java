package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static io.shoplens.processor.testing.KafkaTestClients.streamsProperties;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageReference;
import io.shoplens.events.Product;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.CatalogEntry;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import io.shoplens.registry.MockSchemaRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
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
    String scope = "gateway-e2e-" + UUID.randomUUID();
    ShopLensTopologyConfig config =
        ShopLensTopologyConfig.builder(Map.of("schema.registry.url", "mock://" + scope))
            .modelId("shoplens/tiny-blip2-opt")
            .imageTokens(10)
            .captionOptions(DecodingOptions.greedy().withMaxNewTokens(4))
            .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
            .answerOptions(DecodingOptions.greedy().withMaxNewTokens(4))
            .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
            .recommendations(
                RecommendConfig.builder().enabled(true).topK(10).minScore(-1.0).build())
            .build();
    Map<String, byte[]> served = new HashMap<>();
    for (String name : CATALOG) {
      served.put("https://img.test/" + name, TinyBundle.imageBytes(name));
    }
    ImageResolver inline = ImageResolver.inlineOnly(1_000_000);
    ImageResolver resolver =
        image ->
            image instanceof ImageReference ref
                ? CompletableFuture.completedFuture(
                    new ImageResolver.ResolvedImage(served.get(ref.getUri()), "image/png"))
                : inline.resolve(image);
    EngineConfig engineConfig =
        EngineConfig.builder()
            .intraOpThreads(1)
            .interOpThreads(1)
            .maxBatchSize(8)
            .maxBatchWait(Duration.ofMillis(5))
            .build();

    try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start();
        BatchingInferenceEngine engine =
            BatchingInferenceEngine.start(TinyBundle.dir(), engineConfig)) {
      Map<String, String> compacted =
          Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      createTopics(
          kafka,
          2,
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.RECOMMENDATIONS,
              Topics.DEAD_LETTERS));
      kafka.createTopics(Topics.CATALOG_PRODUCTS, 2, compacted);
      kafka.createTopics(config.recommendations().embeddingsTopic(), 2, compacted);
      Topics topics = Topics.create(config.serdeConfig());
      try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
        for (String name : CATALOG) {
          send(producer, topics.catalogProducts(), "p-" + name, product(name, served));
        }
        producer.flush();
      }

      StreamsBuilder builder = new StreamsBuilder();
      ShopLensTopology.build(builder, config, engine, resolver);
      Properties props =
          streamsProperties(
              config,
              kafka.bootstrapServers(),
              "gateway-e2e-" + UUID.randomUUID(),
              stateDir.toString());
      Map<String, Object> clientProps = new HashMap<>(config.serdeConfig());
      clientProps.put("bootstrap.servers", kafka.bootstrapServers());

      try (KafkaStreams streams = new KafkaStreams(builder.build(props), props);
          GatewayServer gateway =
              GatewayServer.start(GatewayConfig.builder().port(0).build(), clientProps)) {
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
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }

  private static long catalogSize(KafkaStreams streams) {
    try {
      ReadOnlyKeyValueStore<String, CatalogEntry> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  RecommendTopology.CATALOG_STORE, QueryableStoreTypes.keyValueStore()));
      return store.approximateNumEntries();
    } catch (InvalidStateStoreException e) {
      return -1; // not running yet
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

  private static Product product(String name, Map<String, byte[]> served) {
    byte[] bytes = served.get("https://img.test/" + name);
    return Product.newBuilder()
        .setProductId("p-" + name)
        .setTitle(name)
        .setCategory("women/tops")
        .setImage(
            new ImageReference(
                "https://img.test/" + name,
                ImageDigest.sha256Hex(bytes),
                "image/png",
                (long) bytes.length))
        .setInStock(true)
        .build();
  }
}
