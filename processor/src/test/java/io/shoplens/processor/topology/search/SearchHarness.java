package io.shoplens.processor.topology.search;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Product;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.SearchFilters;
import io.shoplens.events.UploadEmbedding;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.testing.DriverTopics;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.processor.testing.FakeRetrieval;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfigBuilder;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * The ShopLens topology with a (fake) retrieval model, in a TopologyTestDriver: typed catalog,
 * upload, question and search inputs; search results, answers, recommendations, upload embeddings
 * and dead letters out; catalog images served by URI. The fake model has 3-d features.
 */
final class SearchHarness implements AutoCloseable {
  static final Instant T0 = DriverTopics.T0;

  final ShopLensTopologyConfig config;
  final FakeEngine engine;
  final FakeRetrieval retrieval = new FakeRetrieval(3);
  final Topics topics;
  final TopologyTestDriver driver;
  final TestInputTopic<String, ImageUploaded> uploads;
  final TestInputTopic<String, QuestionAsked> questions;
  final TestInputTopic<String, Product> catalog;
  final TestInputTopic<String, ProductSearchRequested> searches;
  final TestInputTopic<String, byte[]> rawSearches;
  final TestOutputTopic<String, ProductSearchResults> results;
  final TestOutputTopic<String, QuestionAnswered> answers;
  final TestOutputTopic<String, ImageCaptioned> captions;
  final TestOutputTopic<String, RecommendationsIssued> recommendations;
  final TestOutputTopic<String, UploadEmbedding> uploadEmbeddings;
  final TestOutputTopic<String, DeadLetter> deadLetters;
  private final String scope;

  /** Catalog images by URI. */
  final Map<String, byte[]> images = new ConcurrentHashMap<>();

  SearchHarness(ShopLensTopologyConfig config, Path stateDir) {
    this.config = config;
    this.scope = String.valueOf(config.serdeConfig().get("schema.registry.url"));
    this.engine = FakeEngine.seeing(config);
    StreamsBuilder builder = new StreamsBuilder();
    ImageResolver inline = ImageResolver.inlineOnly(1_000_000);
    ImageResolver resolver =
        image ->
            image instanceof ImageReference ref
                ? CompletableFuture.completedFuture(
                    new ImageResolver.ResolvedImage(images.get(ref.getUri()), "image/png"))
                : inline.resolve(image);
    topics = ShopLensTopology.build(builder, config, engine, retrieval, resolver);
    Properties props = new Properties();
    props.putAll(ShopLensTopology.streamsConfig());
    props.putAll(config.serdeConfig());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shoplens-search-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(builder.build(props), props, T0);
    uploads = DriverTopics.input(driver, topics.imageUploads());
    questions = DriverTopics.input(driver, topics.questions());
    catalog = DriverTopics.input(driver, topics.catalogProducts());
    searches = DriverTopics.input(driver, topics.searchRequests());
    rawSearches =
        driver.createInputTopic(
            Topics.SEARCH_REQUESTS,
            Topics.keySerde().serializer(),
            Serdes.ByteArray().serializer(),
            T0,
            Duration.ofMillis(1));
    results = DriverTopics.output(driver, topics.searchResults());
    answers = DriverTopics.output(driver, topics.answers());
    captions = DriverTopics.output(driver, topics.captions());
    recommendations = DriverTopics.output(driver, topics.recommendations());
    uploadEmbeddings =
        DriverTopics.output(
            driver, topics.uploadEmbeddings(config.retrieval().uploadEmbeddingsTopic()));
    deadLetters = DriverTopics.output(driver, topics.deadLetters());
  }

  /** Retrieval on (related products: 3), recommendations off, registry scope of its own. */
  static ShopLensTopologyConfigBuilder config() {
    return ShopLensTopologyConfig.builder(
            Map.of("schema.registry.url", "mock://search-" + UUID.randomUUID()))
        .modelId("spec/model")
        .imageTokens(0)
        .maxAttempts(2)
        .retryBackoff(Duration.ofMillis(10))
        .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
        .recommendations(RecommendConfig.defaults())
        .retrieval(
            RetrievalConfig.builder()
                .enabled(true)
                .maxQueryChars(40)
                .maxLimit(5)
                .relatedProducts(3)
                .build());
  }

  /** Publishes a product whose image's query vectors are {@code vectors}. */
  void product(String id, String categoryPath, String colour, boolean inStock, float[]... vectors) {
    String uri = "https://img.test/" + id + "/" + UUID.randomUUID();
    byte[] bytes = FakeEngine.image(FakeRetrieval.feat("", vectors));
    images.put(uri, bytes);
    Map<String, String> attributes = new HashMap<>();
    if (colour != null) {
      attributes.put("color", colour);
    }
    catalog.pipeInput(
        id,
        Product.newBuilder()
            .setProductId(id)
            .setTitle("title " + id)
            .setCategory(categoryPath)
            .setAttributes(attributes)
            .setImage(
                new ImageReference(
                    uri, ImageDigest.sha256Hex(bytes), "image/png", (long) bytes.length))
            .setStockQuantity(null)
            .setInStock(inStock)
            .setUpdatedAt(null)
            .build());
    tick();
  }

  /** Uploads an image whose query vectors are {@code vectors}, and lets its caption job finish. */
  void upload(String uploadId, String spec, float[]... vectors) {
    uploads.pipeInput(
        uploadId,
        ImageUploaded.newBuilder()
            .setUploadId(uploadId)
            .setUserId("user-1")
            .setImage(
                new InlineImage(
                    ByteBuffer.wrap(FakeEngine.image(FakeRetrieval.feat(spec, vectors))),
                    "image/png"))
            .setUploadedAt(T0)
            .build());
    tick();
  }

  /** Asks a question about an upload; returns its answer. */
  QuestionAnswered ask(String uploadId, String questionId, String text) {
    questions.pipeInput(
        uploadId,
        QuestionAsked.newBuilder()
            .setQuestionId(questionId)
            .setUploadId(uploadId)
            .setUserId("user-1")
            .setText(text)
            .setAskedAt(T0)
            .build());
    tick();
    List<QuestionAnswered> out = answers.readValuesToList();
    if (out.size() != 1) {
      throw new AssertionError("expected one QuestionAnswered, got " + out);
    }
    return out.get(0);
  }

  /** A request for {@code query} and/or {@code uploadId}, in stock only, any category. */
  static ProductSearchRequested.Builder request(String requestId, String query, String uploadId) {
    return ProductSearchRequested.newBuilder()
        .setRequestId(requestId)
        .setUserId("user-1")
        .setQuery(query)
        .setUploadId(uploadId)
        .setLimit(5)
        .setRequestedAt(T0);
  }

  static SearchFilters filters(String category, boolean inStockOnly) {
    return SearchFilters.newBuilder().setCategory(category).setInStockOnly(inStockOnly).build();
  }

  /** Publishes a search and returns its one result. */
  ProductSearchResults search(ProductSearchRequested request) {
    searches.pipeInput(request.getRequestId(), request);
    tick();
    List<ProductSearchResults> out = results.readValuesToList();
    if (out.size() != 1) {
      throw new AssertionError("expected one ProductSearchResults, got " + out);
    }
    return out.get(0);
  }

  void tick() {
    driver.advanceWallClockTime(Duration.ofMillis(20));
  }

  @Override
  public void close() {
    driver.close();
    MockSchemaRegistry.dropScope(scope.substring("mock://".length()));
  }
}
