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
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.ops.DeadLetterMetrics;
import io.shoplens.processor.app.ops.EngineMetrics;
import io.shoplens.processor.app.ops.Health;
import io.shoplens.processor.app.ops.OpsHttpServer;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.image.HttpImageResolver;
import io.shoplens.processor.topology.image.ImageResolver;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import java.time.Duration;
import java.util.HashMap;
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
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running ShopLens instance: the HTTP endpoints, the inference engine, the image resolver and
 * Kafka Streams, started in that order and closed in reverse.
 *
 * <p>Lifecycle, after streams-bootstrap's {@code StreamsRunner}:
 *
 * <ul>
 *   <li>A state listener feeds {@link Health} and logs every transition.
 *   <li>An uncaught exception in a stream thread is logged with the thread and shuts this client
 *       down ({@code SHUTDOWN_CLIENT}); {@link #awaitTermination} then reports a failure. Bad
 *       records never get here: the topology dead-letters them.
 *   <li>{@link #close} (on SIGTERM through the command line's shutdown hook) stops taking records
 *       and closes Kafka Streams with {@code shoplens.shutdown.timeout.ms}, logging when that wait
 *       expires; requests still in the engine stay in the topology's changelogged in-flight store
 *       and are submitted again by whichever instance restores it. Only then is the engine closed,
 *       so no result is computed for a store that is gone.
 *   <li>An interrupt during any wait is kept: the flag is restored for the caller.
 * </ul>
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
  private final ImageResolver resolver;
  private final KafkaStreams streams;
  // Micrometer references meter state weakly; these binders own it, so the app keeps them.
  private final List<MeterBinder> meterBinders;
  private final CountDownLatch terminated = new CountDownLatch(1);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean closing;
  private boolean closed;

  private ShopLensApplication(
      ShopLensConfig config,
      Health health,
      PrometheusMeterRegistry registry,
      OpsHttpServer http,
      InferenceEngine engine,
      ImageResolver resolver,
      KafkaStreams streams,
      List<MeterBinder> meterBinders) {
    this.config = config;
    this.health = health;
    this.registry = registry;
    this.http = http;
    this.engine = engine;
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
      ModelBundle bundle = ModelBundle.load(config.modelPath());
      ModelManifest manifest = bundle.manifest();
      LOG.info(
          "loading model {} version {} from {} on {}",
          manifest.modelId(),
          manifest.modelVersion(),
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
          manifest.modelId(),
          manifest.numQueryTokens(),
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
   * Opens the engine on a thread with a 16 MiB stack. ONNX Runtime's environment set-up crashed the
   * JVM (SIGSEGV, no hs_err file) on default 1-2 MiB stacks with this application's class path
   * (Kafka's broker jars included), measured with ONNX Runtime 1.29.0 on Linux x86-64.
   */
  public static InferenceEngine loadEngine(ModelBundle bundle, ShopLensConfig config) {
    return loadEngine(bundle, config.engineConfig());
  }

  /** Opens the engine as {@link #loadEngine(ModelBundle, ShopLensConfig)} does, with settings. */
  public static InferenceEngine loadEngine(ModelBundle bundle, EngineConfig engineConfig) {
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
    return start(config, engine, modelId, imageTokens, streamsOverrides, health, registry, http);
  }

  private static ShopLensApplication start(
      ShopLensConfig config,
      InferenceEngine engine,
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
    KafkaStreams streams;
    try {
      ShopLensTopologyConfig topologyConfig = config.topologyConfig(modelId, imageTokens);
      Properties props = streamsProperties(config, streamsOverrides);
      StreamsBuilder builder = new StreamsBuilder();
      ShopLensTopology.build(builder, topologyConfig, engine, resolver);
      Topology topology = builder.build(props);
      LOG.debug("topology:\n{}", topology.describe());
      streams = new KafkaStreams(topology, props);
    } catch (RuntimeException | Error e) {
      resolver.close();
      engine.close();
      if (http != null) {
        http.close();
      }
      registry.close();
      throw e;
    }
    DeadLetterMetrics deadLetterMetrics =
        new DeadLetterMetrics(streams::metrics, Topics.DEAD_LETTERS);
    ShopLensApplication app =
        new ShopLensApplication(
            config,
            health,
            registry,
            http,
            engine,
            resolver,
            streams,
            List.of(engineMetrics, deadLetterMetrics));
    streams.setStateListener(app::onStateChange);
    streams.setUncaughtExceptionHandler(app::onUncaughtException);
    new KafkaStreamsMetrics(streams).bindTo(registry);
    deadLetterMetrics.bindTo(registry);
    LOG.info(
        "starting Kafka Streams: application.id={} bootstrap.servers={} model={}",
        config.applicationId(),
        props(config).get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG),
        engine.modelVersion());
    streams.start();
    return app;
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
    if (!config.recommendationsEnabled()) {
      return;
    }
    String embeddings = config.recommendConfig().embeddingsTopic();
    List<String> needed = List.of(Topics.CATALOG_PRODUCTS, embeddings);
    Map<String, Object> props = new HashMap<>(config.kafkaProperties());
    props.keySet().retainAll(AdminClientConfig.configNames());
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
          ShopLensConfig.RECOMMENDATIONS_ENABLED_CONFIG
              + "=true, but the topics it needs ("
              + String.join(", ", needed)
              + ") could not be checked within "
              + TOPIC_CHECK_TIMEOUT.toSeconds()
              + " s: "
              + (e instanceof ExecutionException ? e.getCause() : "is Kafka reachable?"),
          e);
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          ShopLensConfig.RECOMMENDATIONS_ENABLED_CONFIG
              + "=true, but "
              + (missing.size() == 1 ? "topic " : "topics ")
              + String.join(" and ", missing)
              + (missing.size() == 1 ? " does" : " do")
              + " not exist. Create them compacted (shoplens topics create --recommendations"
              + " --bootstrap HOST:PORT), or set "
              + ShopLensConfig.RECOMMENDATIONS_ENABLED_CONFIG
              + "=false");
    }
  }

  private static Map<String, Object> props(ShopLensConfig config) {
    return config.kafkaProperties();
  }

  /**
   * The Kafka Streams settings: what the topology relies on ({@link
   * ShopLensTopology#streamsConfig()}: exactly-once, dead-lettering of unreadable records), then
   * every Kafka setting of the configuration, then {@code overrides}.
   */
  static Properties streamsProperties(ShopLensConfig config, Map<String, ?> overrides) {
    Properties props = new Properties();
    props.putAll(ShopLensTopology.streamsConfig());
    props.putAll(config.kafkaProperties());
    props.putAll(overrides);
    return props;
  }

  private static OpsHttpServer startHttp(
      ShopLensConfig config, Health health, PrometheusMeterRegistry registry) {
    if (config.httpPort() < 0) {
      LOG.info("HTTP disabled (shoplens.http.port=-1): no health or metrics endpoints");
      return null;
    }
    try {
      return OpsHttpServer.start(config.httpPort(), health, registry);
    } catch (RuntimeException e) {
      registry.close();
      throw e;
    }
  }

  private void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
    health.streamsState(newState);
    LOG.info("Kafka Streams state {} -> {}", oldState, newState);
    if (newState == KafkaStreams.State.ERROR
        || (newState == KafkaStreams.State.NOT_RUNNING && !closing)) {
      terminated.countDown();
    }
  }

  private StreamThreadExceptionResponse onUncaughtException(Throwable e) {
    failure.compareAndSet(null, e);
    LOG.error(
        "stream thread {} failed; shutting this instance down (a bad record would have been"
            + " dead-lettered, so this is a bug or an infrastructure failure)",
        Thread.currentThread().getName(),
        e);
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
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
    terminated.await();
    Throwable e = failure.get();
    if (e == null && !closing) {
      e = new IllegalStateException("Kafka Streams stopped: " + streams.state());
    }
    return e;
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
    closing = true;
    boolean interrupted = Thread.interrupted();
    Duration timeout = config.shutdownTimeout();
    LOG.info("shutting down: closing Kafka Streams (waiting at most {})", timeout);
    long t0 = System.nanoTime();
    // Leaving the group hands this instance's tasks to the others at once, instead of after
    // session.timeout.ms (45 s by default) with those partitions standing still.
    boolean streamsClosed =
        streams.close(
            CloseOptions.timeout(timeout)
                .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    if (streamsClosed) {
      LOG.info(
          "Kafka Streams closed in {} ms; in-flight requests stay in the in-flight store",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    } else {
      LOG.warn(
          "Kafka Streams did not close within {} (shoplens.shutdown.timeout.ms); stream threads"
              + " may still be running. Uncommitted input will be processed again after restart.",
          timeout);
    }
    resolver.close();
    engine.close();
    health.modelLoaded(null);
    if (http != null) {
      http.close();
    }
    registry.close();
    terminated.countDown();
    LOG.info("ShopLens stopped");
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
