package io.shoplens.processor.app.runtime;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.config.RecommendationSettings;
import io.shoplens.processor.app.config.RetrievalSettings;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.ops.DeadLetterMetrics;
import io.shoplens.processor.app.ops.EngineMetrics;
import io.shoplens.processor.app.ops.Health;
import io.shoplens.processor.app.ops.OpsHttpServer;
import io.shoplens.processor.app.ops.VisionSharingMetrics;
import io.shoplens.processor.images.HttpImageResolver;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationBundles;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.GenerationManifest;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import io.shoplens.processor.inference.retrieval.RetrievalService;
import io.shoplens.processor.inference.retrieval.VisionSharing;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running ShopLens instance: the HTTP endpoints, the inference engine, the image resolver and
 * Kafka Streams, started in that order and closed in reverse.
 *
 * <p>Kafka Streams runs in a {@link StreamsRunner} (state listener, uncaught-exception handler,
 * close with a logged timeout); its state changes feed {@link Health}, and a stream-thread failure
 * ends {@link #awaitTermination}. {@link #close} (on SIGTERM through the command line's shutdown
 * hook) stops Kafka Streams first, within {@code shoplens.shutdown.timeout.ms}; requests still in
 * the engine stay in the topology's changelogged in-flight store and are submitted again by
 * whichever instance restores it. Only then is the engine closed, so no result is computed for a
 * store that is gone. An interrupt during any wait is kept: the flag is restored for the caller.
 */
public final class ShopLensApplication implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShopLensApplication.class);

  /** Longest wait for the cluster when checking the recommendation topics at start. */
  static final Duration TOPIC_CHECK_TIMEOUT = Duration.ofSeconds(30);

  private final ShopLensConfig config;
  private final Health health;
  private final PrometheusMeterRegistry registry;
  private final OpsHttpServer http;
  private final InferenceEngine engine;
  private final RetrievalEngine retrieval; // null without shoplens.retrieval.model.path
  private final ImageResolver resolver;
  private final StreamsRunner streams;
  // Micrometer references meter state weakly; these binders own it, so the app keeps them.
  private final List<MeterBinder> meterBinders;
  // Counted down at the end of close(): after an orderly stop, awaitTermination returns only once
  // the engine and HTTP are closed too, not as soon as Kafka Streams is.
  private final CountDownLatch closeDone = new CountDownLatch(1);
  private boolean closed;

  private ShopLensApplication(
      ShopLensConfig config,
      Health health,
      PrometheusMeterRegistry registry,
      OpsHttpServer http,
      InferenceEngine engine,
      RetrievalEngine retrieval,
      ImageResolver resolver,
      StreamsRunner streams,
      List<MeterBinder> meterBinders) {
    this.config = config;
    this.health = health;
    this.registry = registry;
    this.http = http;
    this.engine = engine;
    this.retrieval = retrieval;
    this.resolver = resolver;
    this.streams = streams;
    this.meterBinders = List.copyOf(meterBinders);
  }

  /**
   * Loads the model bundle named by {@code shoplens.model.path} (checksums verified), starts the
   * engine and the application.
   *
   * @throws io.shoplens.processor.inference.bundle.BundleException for a bad bundle
   * @throws io.shoplens.processor.inference.EngineStartupException if ONNX Runtime cannot open it
   */
  public static ShopLensApplication start(ShopLensConfig config) {
    return start(config, Map.of());
  }

  /**
   * As {@link #start(ShopLensConfig)}, with extra Kafka Streams settings that win over the
   * configuration (the demo and tests use it for fast commits and temporary state directories).
   */
  public static ShopLensApplication start(ShopLensConfig config, Map<String, ?> streamsOverrides) {
    // Before the model: loading a real one takes a while, and would be wasted.
    requireRecommendationTopics(config);
    Health health = new Health();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OpsHttpServer http = startHttp(config, health, registry);
    InferenceEngine engine = null;
    try {
      GenerationBundle bundle = GenerationBundles.load(config.modelPath());
      LOG.info(
          "loading model {} version {} ({}) from {} on {}",
          bundle.modelId(),
          bundle.modelVersion(),
          bundle.architecture(),
          bundle.directory(),
          config.engineConfig().executionProvider());
      long t0 = System.nanoTime();
      engine = loadEngine(bundle, config);
      LOG.info(
          "model {} loaded in {} ms",
          engine.modelVersion(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      return start(
          config,
          engine,
          bundle.manifest(),
          bundle.modelId(),
          bundle.numQueryTokens(),
          streamsOverrides,
          health,
          registry,
          http);
    } catch (RuntimeException | Error e) {
      if (engine != null) {
        engine.close();
      }
      if (http != null) {
        http.close();
      }
      registry.close();
      throw e;
    }
  }

  /**
   * Opens the engine on a thread with a 16 MiB stack. ONNX Runtime 1.29.0's environment set-up
   * ({@code OrtEnvironment.createHandle}) crashes the JVM (SIGSEGV, no hs_err file) on a thread
   * with the default 1 MiB stack when the JVM's command line is long (about 4 KB or more, as when
   * the class path is passed with {@code -cp}). Kafka's broker jars are not the cause: measured
   * again with them out of the production jar, a 5 KB command line still crashes on the main thread
   * and runs on this one (Linux x86-64; see the README's benchmark notes). {@code java -jar} has a
   * short command line and would run either way.
   */
  public static InferenceEngine loadEngine(GenerationBundle bundle, ShopLensConfig config) {
    return loadEngine(bundle, config.engineConfig());
  }

  /**
   * Opens the engine as {@link #loadEngine(GenerationBundle, ShopLensConfig)} does, with settings.
   */
  public static InferenceEngine loadEngine(GenerationBundle bundle, EngineConfig engineConfig) {
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread loader =
        new Thread(
            null,
            () -> {
              try {
                outcome.set(BatchingInferenceEngine.start(bundle.directory(), engineConfig));
              } catch (RuntimeException | Error e) {
                outcome.set(e);
              }
            },
            "shoplens-model-loader",
            16L * 1024 * 1024);
    loader.start();
    try {
      loader.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while loading the model", e);
    }
    Object result = outcome.get();
    if (result instanceof RuntimeException e) {
      throw e;
    }
    if (result instanceof Error e) {
      throw e;
    }
    return (InferenceEngine) result;
  }

  /**
   * Starts the application on an engine the caller made (tests use a controllable engine). The
   * application owns the engine from now on and closes it.
   *
   * @param modelId reported in every output
   * @param imageTokens the model's number of query tokens
   */
  public static ShopLensApplication start(
      ShopLensConfig config,
      InferenceEngine engine,
      String modelId,
      int imageTokens,
      Map<String, ?> streamsOverrides) {
    try {
      requireRecommendationTopics(config);
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
    Health health = new Health();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    OpsHttpServer http = startHttp(config, health, registry);
    return start(
        config, engine, null, modelId, imageTokens, streamsOverrides, health, registry, http);
  }

  /**
   * @param generation the generation bundle's manifest, or null for an engine the caller made (its
   *     vision tower is then never shared)
   */
  private static ShopLensApplication start(
      ShopLensConfig config,
      InferenceEngine engine,
      GenerationManifest generation,
      String modelId,
      int imageTokens,
      Map<String, ?> streamsOverrides,
      Health health,
      PrometheusMeterRegistry registry,
      OpsHttpServer http) {
    health.modelLoaded(engine.modelVersion());
    EngineMetrics engineMetrics = new EngineMetrics(engine);
    engineMetrics.bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);

    ImageResolver resolver = new HttpImageResolver(config.imageResolverConfig());
    RetrievalService retrieval = null;
    List<MeterBinder> retrievalMetrics = new ArrayList<>();
    StreamsRunner streams;
    try {
      retrieval = loadRetrieval(config);
      if (retrieval != null) {
        shareVision(generation, engine, retrieval, config.retrievalCacheSize());
        VisionSharingMetrics sharing = new VisionSharingMetrics(retrieval);
        sharing.bindTo(registry);
        retrievalMetrics.add(sharing);
      }
      ShopLensTopologyConfig topologyConfig = config.topologyConfig(modelId, imageTokens);
      Properties props = config.streamsConfigs(streamsOverrides);
      StreamsBuilder builder = new StreamsBuilder();
      ShopLensTopology.build(builder, topologyConfig, engine, retrieval, resolver);
      Topology topology = builder.build(props);
      LOG.debug("topology:\n{}", topology.describe());
      streams =
          new StreamsRunner(
              "ShopLens",
              topology,
              props,
              config.shutdownTimeout(),
              (newState, oldState) -> health.streamsState(newState));
    } catch (RuntimeException | Error e) {
      resolver.close();
      if (retrieval != null) {
        retrieval.close();
      }
      engine.close();
      if (http != null) {
        http.close();
      }
      registry.close();
      throw e;
    }
    DeadLetterMetrics deadLetterMetrics =
        new DeadLetterMetrics(streams.streams()::metrics, Topics.DEAD_LETTERS);
    ShopLensApplication app =
        new ShopLensApplication(
            config,
            health,
            registry,
            http,
            engine,
            retrieval,
            resolver,
            streams,
            concat(List.of(engineMetrics, deadLetterMetrics), retrievalMetrics));
    new KafkaStreamsMetrics(streams.streams()).bindTo(registry);
    deadLetterMetrics.bindTo(registry);
    LOG.info(
        "starting Kafka Streams: application.id={} bootstrap.servers={} model={}",
        config.applicationId(),
        config.kafkaProperties().get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG),
        engine.modelVersion());
    streams.start();
    return app;
  }

  /**
   * Loads the retrieval bundle named by {@code shoplens.retrieval.model.path}, once, or returns
   * null when none is configured.
   *
   * @throws io.shoplens.processor.inference.bundle.BundleException for a bad bundle
   */
  static RetrievalService loadRetrieval(ShopLensConfig config) {
    if (config.retrievalModelPath().isEmpty()) {
      return null;
    }
    Path path = config.retrievalModelPath().get();
    long t0 = System.nanoTime();
    RetrievalService service =
        RetrievalService.open(
            path, config.engineConfig(), config.retrievalThreads(), config.retrievalCacheSize());
    LOG.info(
        "retrieval model {} version {} loaded from {} in {} ms ({}-d features, {} per image)",
        service.modelId(),
        service.modelVersion(),
        path,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
        service.embedDim(),
        service.model().manifest().numQueryTokens());
    return service;
  }

  /**
   * Shares the generation engine's vision tower pass with the retrieval model when {@link
   * VisionSharing} allows it, and says at start-up either way what each uploaded image costs (the
   * {@code shoplens.retrieval.vision.shared} gauge says it at run time).
   *
   * @param generation the generation bundle's manifest, or null for an engine the caller made
   */
  static VisionSharing shareVision(
      GenerationManifest generation,
      InferenceEngine engine,
      RetrievalService retrieval,
      int retrievalCacheSize) {
    if (generation == null || !(engine instanceof BatchingInferenceEngine batching)) {
      LOG.info(
          "vision tower not shared: the generation engine was not loaded from a bundle here;"
              + " each uploaded image costs a generation and a retrieval tower pass");
      return null;
    }
    VisionSharing sharing =
        VisionSharing.decide(generation, retrieval.model().manifest(), retrievalCacheSize);
    if (sharing.shared() && batching.attachVisionTap(retrieval.shareVision(engine))) {
      LOG.info(sharing.describe());
    } else {
      LOG.warn(sharing.describe());
    }
    return sharing;
  }

  private static List<MeterBinder> concat(List<MeterBinder> a, List<MeterBinder> b) {
    List<MeterBinder> all = new ArrayList<>(a);
    all.addAll(b);
    return List.copyOf(all);
  }

  /**
   * With recommendations enabled, checks that the catalog topic and the embeddings topic exist.
   * Without this check Kafka Streams would start and then fail in its global thread or report
   * missing source topics, far from the setting that asked for them.
   *
   * @throws IllegalStateException naming the missing topics and how to create them, or when the
   *     cluster cannot be asked within {@link #TOPIC_CHECK_TIMEOUT}
   */
  static void requireRecommendationTopics(ShopLensConfig config) {
    boolean retrieval = config.retrievalModelPath().isPresent();
    if (!config.recommendationsEnabled() && !retrieval) {
      return;
    }
    String embeddings = config.recommendConfig().embeddingsTopic();
    List<String> needed = new ArrayList<>(List.of(Topics.CATALOG_PRODUCTS, embeddings));
    if (retrieval) {
      needed.add(config.retrievalConfig().uploadEmbeddingsTopic());
      needed.add(Topics.SEARCH_REQUESTS);
    }
    // Named in the messages: the setting that asked for the topics.
    String setting =
        config.recommendationsEnabled()
            ? RecommendationSettings.RECOMMENDATIONS_ENABLED.name() + "=true"
            : RetrievalSettings.RETRIEVAL_MODEL_PATH.name() + " is set";
    Map<String, Object> props = config.adminConfigs();
    props.put(
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TOPIC_CHECK_TIMEOUT.toMillis());
    List<String> missing;
    try (Admin admin = Admin.create(props)) {
      missing = TopicAdmin.missing(admin, needed, TOPIC_CHECK_TIMEOUT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while checking the recommendation topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          setting
              + ", but the topics it needs ("
              + String.join(", ", needed)
              + ") could not be checked within "
              + TOPIC_CHECK_TIMEOUT.toSeconds()
              + " s: "
              + (e instanceof ExecutionException ? e.getCause() : "is Kafka reachable?"),
          e);
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          setting
              + ", but "
              + (missing.size() == 1 ? "topic " : "topics ")
              + String.join(" and ", missing)
              + (missing.size() == 1 ? " does" : " do")
              + " not exist. Create them compacted (shoplens topics create "
              + (retrieval ? "--retrieval" : "--recommendations")
              + " --bootstrap HOST:PORT), or "
              + (config.recommendationsEnabled()
                  ? "set " + RecommendationSettings.RECOMMENDATIONS_ENABLED.name() + "=false"
                  : "unset " + RetrievalSettings.RETRIEVAL_MODEL_PATH.name()));
    }
  }

  private static OpsHttpServer startHttp(
      ShopLensConfig config, Health health, PrometheusMeterRegistry registry) {
    if (config.httpPort() < 0) {
      LOG.info("HTTP disabled (shoplens.http.port=-1): no health or metrics endpoints");
      return null;
    }
    try {
      return OpsHttpServer.start(config.httpBindAddress(), config.httpPort(), health, registry);
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  /**
   * Products in this instance's global catalog store (embedded and ready to be recommended, out of
   * stock ones included); empty when recommendations are off or the store is not queryable yet
   * (Kafka Streams still starting or restoring).
   */
  public OptionalLong catalogProducts() {
    if (!config.recommendationsEnabled()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(
          streams
              .streams()
              .store(
                  StoreQueryParameters.fromNameAndType(
                      RecommendTopology.CATALOG_STORE, QueryableStoreTypes.keyValueStore()))
              .approximateNumEntries());
    } catch (InvalidStateStoreException e) {
      return OptionalLong.empty();
    }
  }

  /** What health probes report now. */
  public Health.Status health() {
    return health.status();
  }

  /** The registry /metrics serves. */
  public PrometheusMeterRegistry meterRegistry() {
    return registry;
  }

  /** The HTTP port, or -1 when HTTP is disabled. */
  public int httpPort() {
    return http == null ? -1 : http.port();
  }

  /** The Kafka Streams state now. */
  public KafkaStreams.State state() {
    return streams.state();
  }

  /** The engine this application owns. */
  public InferenceEngine engine() {
    return engine;
  }

  /**
   * Blocks until the application stops by itself (a fatal Streams error) or {@link #close} is
   * called elsewhere.
   *
   * @return the failure that stopped it, or null after an orderly close
   * @throws InterruptedException if interrupted while waiting
   */
  public Throwable awaitTermination() throws InterruptedException {
    Throwable failure = streams.awaitTermination();
    if (failure == null) {
      closeDone.await();
    }
    return failure;
  }

  /**
   * Graceful stop: Streams first (with the configured time-out, logged when it expires), then the
   * resolver, the engine, HTTP and meters. Idempotent; safe from a shutdown hook.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    boolean interrupted = Thread.interrupted();
    if (streams.stop()) {
      LOG.info("in-flight requests stay in the in-flight store for whichever instance restores it");
    } else {
      LOG.warn(
          "waited {} (shoplens.shutdown.timeout.ms) for Kafka Streams; closing the engine anyway",
          config.shutdownTimeout());
    }
    resolver.close();
    if (retrieval != null) {
      retrieval.close();
    }
    engine.close();
    health.modelLoaded(null);
    if (http != null) {
      http.close();
    }
    registry.close();
    closeDone.countDown();
    LOG.info("ShopLens stopped");
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
