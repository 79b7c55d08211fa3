package io.shoplens.processor.testing;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static io.shoplens.processor.testing.KafkaTestClients.streamsProperties;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageReference;
import io.shoplens.events.Product;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.inference.retrieval.RetrievalService;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.CatalogEntry;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import io.shoplens.processor.topology.search.RetrievalConfig;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * ShopLens end to end with the committed tiny BLIP-2 model and recommendations on, for the tests
 * that run the whole topology against a real in-process KRaft broker (recommendations, the gateway,
 * the demo page in a browser): a fresh {@code mock://} registry scope, the broker with ShopLens's
 * topics, the engine, and catalog images served from memory by their URI.
 *
 * <p>Closing it closes the engine and the broker and drops the registry scope. The Kafka Streams
 * instances it builds are the caller's to start and close.
 */
public final class TinyModelCluster implements AutoCloseable {
  private final String name;
  private final String scope;
  private final ShopLensTopologyConfig config;
  private final Map<String, byte[]> served = new ConcurrentHashMap<>();
  private final EmbeddedKafkaCluster kafka;
  private final BatchingInferenceEngine engine;
  private final RetrievalService retrieval;
  private final Topics topics;

  /** The committed tiny retrieval bundle (random weights: its rankings mean nothing). */
  public static final Path TINY_RETRIEVAL =
      Path.of("src/test/resources/models/tiny-blip2-retrieval");

  private TinyModelCluster(
      String name,
      String scope,
      ShopLensTopologyConfig config,
      EmbeddedKafkaCluster kafka,
      BatchingInferenceEngine engine,
      RetrievalService retrieval) {
    this.name = name;
    this.scope = scope;
    this.config = config;
    this.kafka = kafka;
    this.engine = engine;
    this.retrieval = retrieval;
    this.topics = Topics.create(config.serdeConfig());
  }

  /**
   * Starts the broker and the engine and creates the topics.
   *
   * @param name prefix of the registry scope and of the Streams application id
   * @param partitions partitions of the input, output and catalog topics (the embeddings topic has
   *     2)
   */
  public static TinyModelCluster start(String name, int partitions) {
    return start(name, partitions, false);
  }

  /**
   * As {@link #start(String, int)}, with the tiny retrieval bundle ({@link #TINY_RETRIEVAL}) loaded
   * and search on: the search topics and the compacted upload-embeddings topic are created too.
   */
  public static TinyModelCluster startWithSearch(String name, int partitions) {
    return start(name, partitions, true);
  }

  private static TinyModelCluster start(String name, int partitions, boolean search) {
    String scope = name + UUID.randomUUID();
    // Short outputs keep the tiny model quick; any score is recommended, so that ranks show.
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
            .retrieval(RetrievalConfig.builder().enabled(search).build())
            .build();
    EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start();
    BatchingInferenceEngine engine = null;
    RetrievalService retrieval = null;
    try {
      engine = BatchingInferenceEngine.start(TinyBundle.dir(), engineConfig());
      List<String> plain = new ArrayList<>(KafkaTestClients.SHOPLENS_TOPICS);
      Map<String, String> compacted =
          Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      if (search) {
        retrieval = RetrievalService.open(TINY_RETRIEVAL, engineConfig(), 2, 16);
        plain.addAll(List.of(Topics.SEARCH_REQUESTS, Topics.SEARCH_RESULTS));
        kafka.createTopics(config.retrieval().uploadEmbeddingsTopic(), 2, compacted);
      }
      createTopics(kafka, partitions, plain);
      kafka.createTopics(Topics.CATALOG_PRODUCTS, partitions, compacted);
      kafka.createTopics(config.recommendations().embeddingsTopic(), 2, compacted);
      return new TinyModelCluster(name, scope, config, kafka, engine, retrieval);
    } catch (RuntimeException e) {
      if (retrieval != null) {
        retrieval.close();
      }
      if (engine != null) {
        engine.close();
      }
      kafka.close();
      throw e;
    }
  }

  /**
   * The engine settings of the tests that run the tiny model under Kafka: one ONNX Runtime thread
   * each way, batches of up to 8 formed within 5 ms.
   */
  public static EngineConfig engineConfig() {
    return EngineConfig.builder()
        .intraOpThreads(1)
        .interOpThreads(1)
        .maxBatchSize(8)
        .maxBatchWait(Duration.ofMillis(5))
        .build();
  }

  /** The topology settings, with the serde settings of this cluster's registry scope. */
  public ShopLensTopologyConfig config() {
    return config;
  }

  public EmbeddedKafkaCluster kafka() {
    return kafka;
  }

  public BatchingInferenceEngine engine() {
    return engine;
  }

  /** The retrieval model, or null unless started {@link #startWithSearch with search}. */
  public RetrievalService retrieval() {
    return retrieval;
  }

  /** The topics, with the serdes of this cluster's registry scope. */
  public Topics topics() {
    return topics;
  }

  /** What a Kafka client of this cluster needs: the brokers and the serde settings. */
  public Map<String, Object> clientProperties() {
    Map<String, Object> props = new HashMap<>(config.serdeConfig());
    props.put("bootstrap.servers", kafka.bootstrapServers());
    return props;
  }

  /**
   * A catalog product {@code p-<image>} titled {@code image}, in stock or not, whose image is the
   * tiny bundle's test image {@code image}, served (to the topology's resolver) under {@code uri}.
   */
  public Product product(String image, String uri, boolean inStock) {
    byte[] bytes = TinyBundle.imageBytes(image);
    served.put(uri, bytes);
    return Product.newBuilder()
        .setProductId("p-" + image)
        .setTitle(image)
        .setCategory("women/tops")
        .setImage(
            new ImageReference(uri, ImageDigest.sha256Hex(bytes), "image/png", (long) bytes.length))
        .setInStock(inStock)
        .build();
  }

  /** Publishes the products to the catalog topic, keyed by product id, and waits for the acks. */
  public void publishCatalog(List<Product> products) {
    try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
      for (Product p : products) {
        send(producer, topics.catalogProducts(), p.getProductId(), p);
      }
      producer.flush();
    }
  }

  /**
   * A ShopLens instance (not started) over this cluster: the topology with the engine, inline
   * images and the served catalog images, exactly-once, under a fresh application id.
   */
  public KafkaStreams streams(Path stateDir) {
    ImageResolver inline = ImageResolver.inlineOnly(1_000_000);
    ImageResolver resolver =
        image ->
            image instanceof ImageReference ref
                ? CompletableFuture.completedFuture(
                    new ImageResolver.ResolvedImage(served.get(ref.getUri()), "image/png"))
                : inline.resolve(image);
    StreamsBuilder builder = new StreamsBuilder();
    ShopLensTopology.build(builder, config, engine, retrieval, resolver);
    Properties props =
        streamsProperties(
            config, kafka.bootstrapServers(), name + UUID.randomUUID(), stateDir.toString());
    return new KafkaStreams(builder.build(props), props);
  }

  /** The instance's global catalog store, or empty while it is not running yet. */
  public static Optional<ReadOnlyKeyValueStore<String, CatalogEntry>> catalog(
      KafkaStreams streams) {
    try {
      return Optional.of(
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  RecommendTopology.CATALOG_STORE, QueryableStoreTypes.keyValueStore())));
    } catch (InvalidStateStoreException e) {
      return Optional.empty();
    }
  }

  /** Products in the instance's global catalog store; -1 while it is not running yet. */
  public static long catalogSize(KafkaStreams streams) {
    return catalog(streams).map(ReadOnlyKeyValueStore::approximateNumEntries).orElse(-1L);
  }

  @Override
  public void close() {
    try {
      if (retrieval != null) {
        retrieval.close();
      }
      engine.close();
      kafka.close();
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }
}
