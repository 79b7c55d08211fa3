package io.shoplens.processor.topology.search;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static io.shoplens.processor.testing.KafkaTestClients.streamsProperties;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Product;
import io.shoplens.events.ProductMatch;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.events.SearchMode;
import io.shoplens.events.UploadEmbedding;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.inference.retrieval.ImageFeatures;
import io.shoplens.processor.inference.retrieval.RetrievalService;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.CatalogEntry;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
 * Product search end to end on a real in-process KRaft broker, exactly-once, with the tiny BLIP-2
 * generation model (captions) and the tiny retrieval bundle (features): the catalog is embedded by
 * the retrieval model, an upload's pooled feature reaches every instance's global store, and a
 * search by text, a search by that upload and a bad search each get exactly one
 * ProductSearchResults keyed by their requestId, ranked as the retrieval model computed directly.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class SearchIntegrationTest {
  private static final Path RETRIEVAL = Path.of("src/test/resources/models/tiny-blip2-retrieval");
  private static final Map<String, String> CATALOG =
      Map.of(
          "photo.jpg", "women/dresses",
          "wide.png", "men/shoes/sneakers",
          "alpha.png", "women/dresses",
          "palette.png", "men/outerwear/jackets");
  private static final String TEXT = "a red dress";

  @TempDir Path stateDir;

  @Test
  void shouldAnswerSearchesByTextAndByUploadFromTheRetrievalFeaturesOfTheCatalog()
      throws Exception {
    String scope = "search-it-" + UUID.randomUUID();
    ShopLensTopologyConfig config =
        ShopLensTopologyConfig.builder(Map.of("schema.registry.url", "mock://" + scope))
            .modelId("shoplens/tiny-blip2-opt")
            .imageTokens(10)
            .captionOptions(DecodingOptions.greedy().withMaxNewTokens(4))
            .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
            .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
            .recommendations(RecommendConfig.defaults())
            .retrieval(RetrievalConfig.builder().enabled(true).build())
            .build();
    Map<String, byte[]> served = new HashMap<>();
    for (String name : CATALOG.keySet()) {
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
            BatchingInferenceEngine.start(TinyBundle.dir(), engineConfig);
        RetrievalService retrieval = RetrievalService.open(RETRIEVAL, engineConfig, 2, 16)) {
      Map<String, String> compacted =
          Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      createTopics(
          kafka,
          3,
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.RECOMMENDATIONS,
              Topics.SEARCH_REQUESTS,
              Topics.SEARCH_RESULTS,
              Topics.DEAD_LETTERS));
      kafka.createTopics(Topics.CATALOG_PRODUCTS, 3, compacted);
      kafka.createTopics(config.recommendations().embeddingsTopic(), 2, compacted);
      kafka.createTopics(config.retrieval().uploadEmbeddingsTopic(), 2, compacted);
      Topics topics = Topics.create(config.serdeConfig());

      // Given a catalog of one product per image, and a shopper's upload of one of them
      try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
        for (var e : CATALOG.entrySet()) {
          send(
              producer,
              topics.catalogProducts(),
              "p-" + e.getKey(),
              product(e.getKey(), e.getValue(), served));
        }
        send(producer, topics.imageUploads(), "up-photo", upload("up-photo", "photo.jpg"));
        producer.flush();
      }

      StreamsBuilder builder = new StreamsBuilder();
      ShopLensTopology.build(builder, config, engine, retrieval, resolver);
      Properties props =
          streamsProperties(
              config,
              kafka.bootstrapServers(),
              "shoplens-search-it-" + UUID.randomUUID(),
              stateDir.toString());

      Map<String, ProductSearchResults> answered = new LinkedHashMap<>();
      try (KafkaStreams streams = new KafkaStreams(builder.build(props), props);
          KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "verifier-")) {
        streams.start();
        // When the catalog and the upload's features have reached the global stores
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> catalogEmbedded(streams) == CATALOG.size() && uploadKnown(streams));

        // And the shopper searches by text, by the upload, and with nothing to search for
        try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
          send(producer, topics.searchRequests(), "s-text", request("s-text", TEXT, null));
          send(
              producer, topics.searchRequests(), "s-upload", request("s-upload", null, "up-photo"));
          send(producer, topics.searchRequests(), "s-empty", request("s-empty", " ", null));
          producer.flush();
        }
        consumer.subscribe(List.of(Topics.SEARCH_RESULTS));
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    ProductSearchResults res = read(topics.searchResults(), r);
                    assertThat(new String(r.key(), StandardCharsets.UTF_8))
                        .isEqualTo(res.getRequestId());
                    assertThat(answered.put(res.getRequestId(), res)).as("duplicate").isNull();
                  }
                  return answered.size() == 3;
                });
        for (int i = 0; i < 3; i++) {
          assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty();
        }
        streams.close(Duration.ofSeconds(30));
      }

      // Then the text search ranks the catalog by ITC similarity, as the model computes it directly
      Map<String, ImageFeatures> features = new HashMap<>();
      for (String name : CATALOG.keySet()) {
        features.put(
            "p-" + name,
            retrieval.imageFeatures(name, served.get("https://img.test/" + name)).join());
      }
      float[] text = retrieval.textFeatures("expected", TEXT).join();
      ProductSearchResults byText = answered.get("s-text");
      assertThat(byText.getMode()).isEqualTo(SearchMode.TEXT);
      assertRanked(byText, features, text);
      assertThat(byText.getModel().getModelVersion()).isEqualTo(retrieval.modelVersion());
      assertThat(byText.getLineage().getSourceTopic()).isEqualTo(Topics.SEARCH_REQUESTS);

      // And the upload search ranks it by the upload's pooled feature
      float[] pooled =
          retrieval.imageFeatures("upload", TinyBundle.imageBytes("photo.jpg")).join().pooled();
      ProductSearchResults byUpload = answered.get("s-upload");
      assertThat(byUpload.getMode()).isEqualTo(SearchMode.IMAGE);
      assertRanked(byUpload, features, pooled);

      // And the empty search is answered with its reason
      assertThat(answered.get("s-empty").getFailureReason())
          .isEqualTo(SearchFailureReason.EMPTY_QUERY);
      assertThat(answered.get("s-empty").getProducts()).isEmpty();
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }

  /** Every product, ranked by the exact max-similarity of its query vectors with {@code query}. */
  private static void assertRanked(
      ProductSearchResults results, Map<String, ImageFeatures> features, float[] query) {
    List<Map.Entry<String, Double>> expected = new ArrayList<>();
    features.forEach((id, f) -> expected.add(Map.entry(id, (double) f.similarity(query))));
    expected.sort(
        Comparator.comparing((Map.Entry<String, Double> e) -> e.getValue())
            .reversed()
            .thenComparing(Map.Entry::getKey));
    assertThat(results.getFailureReason()).isNull();
    assertThat(results.getProducts())
        .extracting(ProductMatch::getProductId)
        .containsExactlyElementsOf(expected.stream().map(Map.Entry::getKey).toList());
    for (int i = 0; i < expected.size(); i++) {
      assertThat(results.getProducts().get(i).getScore())
          .as(expected.get(i).getKey())
          .isCloseTo(expected.get(i).getValue(), within(1e-5));
    }
  }

  private static long catalogEmbedded(KafkaStreams streams) {
    try {
      ReadOnlyKeyValueStore<String, CatalogEntry> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  RecommendTopology.CATALOG_STORE, QueryableStoreTypes.keyValueStore()));
      long n = 0;
      for (String name : CATALOG.keySet()) {
        CatalogEntry e = store.get("p-" + name);
        n += e != null && e.embedding() != null ? 1 : 0;
      }
      return n;
    } catch (InvalidStateStoreException e) {
      return -1; // not running yet
    }
  }

  private static boolean uploadKnown(KafkaStreams streams) {
    try {
      ReadOnlyKeyValueStore<String, UploadEmbedding> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  SearchTopology.UPLOAD_VECTORS_STORE, QueryableStoreTypes.keyValueStore()));
      return store.get("up-photo") != null;
    } catch (InvalidStateStoreException e) {
      return false;
    }
  }

  private static ProductSearchRequested request(String id, String query, String uploadId) {
    return ProductSearchRequested.newBuilder()
        .setRequestId(id)
        .setUserId("user-1")
        .setQuery(query)
        .setUploadId(uploadId)
        .setLimit(10)
        .setFilters(null)
        .setRequestedAt(Instant.parse("2025-03-14T09:26:53.589Z"))
        .build();
  }

  private static Product product(String name, String category, Map<String, byte[]> served) {
    byte[] bytes = served.get("https://img.test/" + name);
    return Product.newBuilder()
        .setProductId("p-" + name)
        .setTitle(name)
        .setCategory(category)
        .setImage(
            new ImageReference(
                "https://img.test/" + name,
                ImageDigest.sha256Hex(bytes),
                "image/png",
                (long) bytes.length))
        .setInStock(true)
        .build();
  }

  private static ImageUploaded upload(String uploadId, String image) {
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId("user-" + uploadId)
        .setProductId(null)
        .setImage(new InlineImage(ByteBuffer.wrap(TinyBundle.imageBytes(image)), "image/png"))
        .setUploadedAt(Instant.parse("2025-03-14T09:26:53.589Z"))
        .build();
  }
}
