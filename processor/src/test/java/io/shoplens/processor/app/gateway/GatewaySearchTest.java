package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.app.gateway.RefusalChecks.assertRefused;
import static io.shoplens.processor.testing.KafkaTestClients.SHOPLENS_TOPICS;
import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.ProductMatch;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.events.SearchMode;
import io.shoplens.processor.topology.Topics;
import io.shoplens.registry.MockSchemaRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.types.Password;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code POST /v1/search} and {@code GET /v1/search/{id}} on a real in-process broker. A stand-in
 * for ShopLens's search processor answers the published requests with scripted results (the
 * processor's own behaviour is {@code SearchTopologyTest}'s and {@code SearchIntegrationTest}'s;
 * {@code GatewaySearchEndToEndTest} runs both together), so that every way a search can come back
 * is tried: the request the gateway published, 200 with ranked products, each refusal the gateway
 * decides itself without publishing, ShopLens's failure reasons as their statuses, and late results
 * as 202 and then at their address on any instance.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GatewaySearchTest {
  private static final int MAX_QUERY_CHARS = 20;
  private static final int MAX_LIMIT = 5;

  private static String scope;
  private static EmbeddedKafkaCluster kafka;
  private static Map<String, Object> clientProps;
  private static Topics topics;
  private static StandInSearch shopLens;
  private static GatewayServer gateway;
  private static GatewayClient client;

  @BeforeAll
  static void start() {
    scope = "gateway-search-" + UUID.randomUUID();
    kafka = new EmbeddedKafkaCluster().start();
    List<String> all = new ArrayList<>(SHOPLENS_TOPICS);
    all.addAll(List.of(Topics.SEARCH_REQUESTS, Topics.SEARCH_RESULTS));
    createTopics(kafka, 2, all);
    clientProps = new HashMap<>();
    clientProps.put("bootstrap.servers", kafka.bootstrapServers());
    clientProps.put("schema.registry.url", "mock://" + scope);
    topics = Topics.create(clientProps);
    shopLens = new StandInSearch();
    gateway = start(GatewayConfig.builder().searchTimeout(Duration.ofSeconds(30)));
    client = new GatewayClient(gateway.port());
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (shopLens != null) {
      shopLens.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    MockSchemaRegistry.dropScope(scope);
  }

  @Test
  void shouldPublishTheSearchAndAnswer200WithTheRankedProductsWithColourStockAndReasons() {
    // Given ShopLens finds two products for "white sneakers"
    // When the storefront searches with filters, a limit and its user id
    GatewayClient.Reply reply =
        client.postJson(
            "/v1/search",
            "{\"query\": \"white sneakers\", \"filters\": {\"category\": \"sneakers\","
                + " \"inStockOnly\": false}, \"limit\": 3, \"userId\": \"shopper-7\"}");

    // Then the results come back with 200, best first, with what a storefront displays
    assertThat(reply.status()).as(reply.json().toString()).isEqualTo(200);
    JsonNode results = reply.json();
    assertThat(results.path("mode").asText()).isEqualTo("TEXT");
    assertThat(results.path("failureReason").isNull()).isTrue();
    JsonNode products = results.path("products");
    assertThat(products).hasSize(2);
    assertThat(products.get(0).path("productId").asText()).isEqualTo("p-white-court");
    assertThat(products.get(0).path("rank").asInt()).isEqualTo(1);
    assertThat(products.get(0).path("score").asDouble()).isEqualTo(0.91);
    assertThat(products.get(0).path("colour").asText()).isEqualTo("white");
    assertThat(products.get(0).path("inStock").asBoolean()).isTrue();
    assertThat(products.get(0).path("reasons").get(0).asText())
        .isEqualTo("text similarity 0.910 to 'white sneakers'");
    assertThat(products.get(1).path("inStock").asBoolean()).isFalse();
    assertThat(results.path("model").path("modelVersion").asText()).isEqualTo("stand-in-v1");

    // And the published request carries the body's fields, under the requestId it was answered by
    ProductSearchRequested published = shopLens.request(results.path("requestId").asText());
    assertThat(published.getQuery()).isEqualTo("white sneakers");
    assertThat(published.getUploadId()).isNull();
    assertThat(published.getFilters().getCategory()).isEqualTo("sneakers");
    assertThat(published.getFilters().getInStockOnly()).isFalse();
    assertThat(published.getLimit()).isEqualTo(3);
    assertThat(published.getUserId()).isEqualTo("shopper-7");
  }

  @Test
  void shouldRefuseWhatShopLensWouldRefuseWith400AndPublishNothing() {
    // Given bodies that are not JSON, search for nothing, too much, or in the wrong shape
    // When they are posted, Then each is refused with its reason and nothing is published
    assertRefused(
        refusedWithoutPublishing(() -> client.postJson("/v1/search", "{\"query\": ")),
        400,
        "malformed_json",
        "not valid JSON");
    assertRefused(
        refusedWithoutPublishing(() -> client.postJson("/v1/search", "{\"query\": \"   \"}")),
        400,
        "empty_query",
        "non-blank 'query'");
    assertRefused(
        refusedWithoutPublishing(() -> client.postJson("/v1/search", "{}")),
        400,
        "empty_query",
        "'uploadId'");
    assertRefused(
        refusedWithoutPublishing(
            () ->
                client.postJson(
                    "/v1/search", "{\"query\": \"" + "x".repeat(MAX_QUERY_CHARS + 1) + "\"}")),
        400,
        "query_too_long",
        "at most " + MAX_QUERY_CHARS);
    assertRefused(
        refusedWithoutPublishing(
            () ->
                client.postJson(
                    "/v1/search", "{\"query\": \"red\", \"limit\": " + (MAX_LIMIT + 1) + "}")),
        400,
        "invalid_limit",
        "[1, " + MAX_LIMIT + "]");
    assertRefused(
        refusedWithoutPublishing(
            () -> client.postJson("/v1/search", "{\"query\": \"red\", \"limit\": 2.5}")),
        400,
        "invalid_limit",
        "got 2.5");
    assertRefused(
        refusedWithoutPublishing(() -> client.postJson("/v1/search", "{\"qurey\": \"red\"}")),
        400,
        "invalid_field",
        "no field 'qurey'");
    assertRefused(
        refusedWithoutPublishing(
            () ->
                client.postJson(
                    "/v1/search", "{\"query\": \"red\", \"filters\": {\"inStockOnly\": \"yes\"}}")),
        400,
        "invalid_field",
        "filters.inStockOnly");
  }

  @Test
  void shouldRefuseAnUnknownUploadWith404AndPublishNothing() {
    GatewayClient.Reply reply =
        refusedWithoutPublishing(
            () -> client.postJson("/v1/search", "{\"uploadId\": \"no-such-upload\"}"));

    assertRefused(reply, 404, "unknown_upload", "no-such-upload");
  }

  @Test
  void shouldAnswerShopLensFailureReasonsWithTheirStatusCodeAndTheResults() {
    // Given an upload the gateway knows but ShopLens has no image features for yet
    String uploadId =
        client
            .upload(GatewayBadInputTest.image("tiny.png"), "tiny.png", "image/png")
            .json()
            .path("uploadId")
            .asText();

    // When searches come back with ShopLens's failure reasons
    GatewayClient.Reply filter =
        client.postJson(
            "/v1/search", "{\"query\": \"red\", \"filters\": {\"category\": \"spaceship\"}}");
    GatewayClient.Reply upload =
        client.postJson("/v1/search", "{\"uploadId\": \"" + uploadId + "\"}");
    GatewayClient.Reply catalog = client.postJson("/v1/search", "{\"query\": \"too early\"}");
    GatewayClient.Reply failed = client.postJson("/v1/search", "{\"query\": \"model breaks\"}");

    // Then each is its status, with ShopLens's message and the results
    assertRefused(filter, 400, "unknown_filter_value", "'spaceship' is not a category");
    assertThat(filter.json().path("results").path("failureReason").asText())
        .isEqualTo("UNKNOWN_FILTER_VALUE");
    assertThat(filter.json().path("requestId").asText())
        .isEqualTo(filter.json().path("results").path("requestId").asText());
    assertRefused(upload, 409, "upload_not_searchable", "not been captioned yet");
    assertThat(shopLens.request(upload.json().path("requestId").asText()).getUploadId())
        .isEqualTo(uploadId);
    assertRefused(catalog, 503, "catalog_not_embedded", "no catalog product");
    assertThat(catalog.headers().get("retry-after")).containsExactly("30");
    assertRefused(failed, 502, "search_failed", "retrieval graph failed");
  }

  @Test
  void shouldAnswer202WhenResultsAreLateAndServeThemAtTheirAddressOnEveryInstance() {
    try (GatewayServer impatient = start(GatewayConfig.builder().searchTimeout(Duration.ZERO))) {
      GatewayClient other = new GatewayClient(impatient.port());

      // Given ShopLens holds the answer to a search back
      // When the search is posted to a gateway that does not wait
      GatewayClient.Reply posted = other.postJson("/v1/search", "{\"query\": \"held back\"}");

      // Then it is accepted with 202 and the address of its results, which are pending
      assertThat(posted.status()).as(posted.json().toString()).isEqualTo(202);
      String requestId = posted.json().path("requestId").asText();
      String location = "/v1/search/" + requestId;
      assertThat(posted.headers().get("location")).containsExactly(location);
      assertThat(posted.json().path("status").asText()).isEqualTo("pending");
      await().atMost(Duration.ofSeconds(30)).until(() -> shopLens.received(requestId));
      assertThat(other.get(location).status()).isEqualTo(202);

      // And once ShopLens answers, both instances serve the results at that address
      shopLens.releaseHeld();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> other.get(location).status() == 200 && client.get(location).status() == 200);
      assertThat(client.get(location).json().path("products").get(0).path("productId").asText())
          .isEqualTo("p-held");
      assertRefused(client.get("/v1/search/never-asked"), 404, "unknown_search", "never-asked");
    }
  }

  @Test
  void shouldRefuseSearchesWith503WhereTheSearchTopicsDoNotExist() {
    // Given a gateway whose cluster has no search topics (ShopLens without a retrieval model)
    String bare = "gateway-search-bare-" + UUID.randomUUID();
    try (EmbeddedKafkaCluster noSearch = new EmbeddedKafkaCluster().start()) {
      createTopics(noSearch, 1, SHOPLENS_TOPICS);
      Map<String, Object> props =
          Map.of(
              "bootstrap.servers",
              noSearch.bootstrapServers(),
              "schema.registry.url",
              "mock://" + bare);
      try (GatewayServer withoutSearch =
          GatewayServer.start(GatewayConfig.builder().port(0).build(), props)) {
        await().atMost(Duration.ofSeconds(60)).until(withoutSearch::ready);

        // When a search is posted
        GatewayClient.Reply reply =
            new GatewayClient(withoutSearch.port())
                .postJson("/v1/search", "{\"query\": \"white sneakers\"}");

        // Then it is refused, naming the missing topics
        assertRefused(reply, 503, "search_unavailable", Topics.SEARCH_REQUESTS);
      }
    } finally {
      MockSchemaRegistry.dropScope(bare);
    }
  }

  @Test
  void shouldRefuseSearchesWith503WhileItIsNotReadingItsTopicsYet() {
    // Given a gateway whose brokers cannot be reached (as while a cluster starts)
    Map<String, Object> unreachable =
        Map.of("bootstrap.servers", "localhost:1", "schema.registry.url", "mock://" + scope);
    try (GatewayServer starting =
        GatewayServer.start(GatewayConfig.builder().port(0).build(), unreachable)) {
      // When a search is posted, Then it is refused as not ready rather than published
      assertRefused(
          new GatewayClient(starting.port())
              .postJson("/v1/search", "{\"query\": \"white sneakers\"}"),
          503,
          "search_unavailable",
          "not reading its topics yet");
    }
  }

  @Test
  void shouldRefuseSearchesWithoutTheApiKeyWith401() {
    try (GatewayServer guarded =
        start(GatewayConfig.builder().apiKey(new Password("search-key")))) {
      GatewayClient anonymous = new GatewayClient(guarded.port());
      GatewayClient keyed = new GatewayClient(guarded.port(), Map.of("X-API-Key", "search-key"));

      GatewayClient.Reply refused =
          refusedWithoutPublishing(
              () -> anonymous.postJson("/v1/search", "{\"query\": \"white sneakers\"}"));

      assertRefused(refused, 401, "unauthorized", "needs an API key");
      assertThat(keyed.postJson("/v1/search", "{\"query\": \"white sneakers\"}").status())
          .isEqualTo(200);
    }
  }

  // --- helpers ------------------------------------------------------------------------------

  private static GatewayServer start(GatewayConfigBuilder config) {
    GatewayServer g =
        GatewayServer.start(
            config
                .port(0)
                .requestsPerMinute(0)
                .searchMaxQueryChars(MAX_QUERY_CHARS)
                .searchMaxLimit(MAX_LIMIT)
                .build(),
            clientProps);
    await().atMost(Duration.ofSeconds(60)).until(g::ready);
    return g;
  }

  /** Runs the request; asserts that nothing reached the input topics. */
  private static GatewayClient.Reply refusedWithoutPublishing(
      Supplier<GatewayClient.Reply> request) {
    GatewayClient.Reply reply =
        new RefusalChecks(
                kafka.bootstrapServers(),
                List.of(Topics.SEARCH_REQUESTS, Topics.IMAGE_UPLOADS, Topics.QUESTIONS),
                2)
            .withoutPublishing(request);
    return reply;
  }

  /**
   * Stands in for ShopLens's search processor: reads every published search and answers it by its
   * query, as scripted in {@link #answer}; a search for "held back" is answered only on {@link
   * #releaseHeld}.
   */
  private static final class StandInSearch implements AutoCloseable {
    private final Map<String, ProductSearchRequested> requests = new ConcurrentHashMap<>();
    private final List<ProductSearchRequested> held = new CopyOnWriteArrayList<>();
    private final KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka);
    private final Thread thread = new Thread(this::run, "stand-in-search");
    private volatile boolean running = true;

    StandInSearch() {
      thread.setDaemon(true);
      thread.start();
    }

    ProductSearchRequested request(String requestId) {
      ProductSearchRequested r = requests.get(requestId);
      assertThat(r).as("published request " + requestId).isNotNull();
      return r;
    }

    boolean received(String requestId) {
      return requests.containsKey(requestId);
    }

    void releaseHeld() {
      for (ProductSearchRequested r : held) {
        publish(r, results(r, SearchMode.TEXT, List.of(match("p-held", 1, 0.5, "red", true))));
      }
      held.clear();
    }

    private void run() {
      try (KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "stand-in-")) {
        consumer.subscribe(List.of(Topics.SEARCH_REQUESTS));
        while (running) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            ProductSearchRequested request = read(topics.searchRequests(), r);
            requests.put(request.getRequestId(), request);
            answer(request);
          }
        }
      }
    }

    private void answer(ProductSearchRequested r) {
      String query = r.getQuery() == null ? "" : r.getQuery();
      if (r.getFilters() != null && "spaceship".equals(r.getFilters().getCategory())) {
        publish(
            r,
            failed(
                r,
                SearchFailureReason.UNKNOWN_FILTER_VALUE,
                "category 'spaceship' is not a category of the attribute vocabulary"));
      } else if (r.getUploadId() != null) {
        publish(
            r,
            failed(
                r,
                SearchFailureReason.UNKNOWN_UPLOAD,
                "upload " + r.getUploadId() + " is unknown here: it has not been captioned yet"));
      } else if (query.equals("too early")) {
        publish(
            r,
            failed(
                r,
                SearchFailureReason.CATALOG_NOT_EMBEDDED,
                "no catalog product has image features of model stand-in-v1 yet"));
      } else if (query.equals("model breaks")) {
        publish(
            r, failed(r, SearchFailureReason.SEARCH_FAILED, "retrieval graph failed: text.onnx"));
      } else if (query.equals("held back")) {
        held.add(r);
      } else {
        publish(
            r,
            results(
                r,
                SearchMode.TEXT,
                List.of(
                    match("p-white-court", 1, 0.91, "white", true),
                    match("p-canvas-low", 2, 0.87, "white", false))));
      }
    }

    private void publish(ProductSearchRequested r, ProductSearchResults results) {
      send(producer, topics.searchResults(), r.getRequestId(), results);
      producer.flush();
    }

    private static ProductMatch match(
        String productId, int rank, double score, String colour, boolean inStock) {
      return ProductMatch.newBuilder()
          .setProductId(productId)
          .setRank(rank)
          .setScore(score)
          .setTextSimilarity(score)
          .setTitle(productId.substring(2))
          .setCategory("sneakers")
          .setColour(colour)
          .setInStock(inStock)
          .setReasons(
              List.of(
                  String.format(
                      java.util.Locale.ROOT, "text similarity %.3f to 'white sneakers'", score)))
          .build();
    }

    private static ProductSearchResults results(
        ProductSearchRequested r, SearchMode mode, List<ProductMatch> products) {
      return ProductSearchResults.newBuilder()
          .setRequestId(r.getRequestId())
          .setUserId(r.getUserId())
          .setQuery(r.getQuery())
          .setUploadId(r.getUploadId())
          .setMode(mode)
          .setProducts(products)
          .setFailureReason(null)
          .setFailureMessage(null)
          .setModel(new ModelInfo("shoplens/stand-in", "stand-in-v1"))
          .setLineage(new Lineage(Topics.SEARCH_REQUESTS, 0, 0L, null))
          .setSearchedAt(Instant.now())
          .build();
    }

    private static ProductSearchResults failed(
        ProductSearchRequested r, SearchFailureReason reason, String message) {
      ProductSearchResults out = results(r, SearchMode.UNKNOWN, List.of());
      out.setFailureReason(reason);
      out.setFailureMessage(message);
      return out;
    }

    @Override
    public void close() {
      running = false;
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      producer.close(Duration.ofSeconds(5));
    }
  }
}
