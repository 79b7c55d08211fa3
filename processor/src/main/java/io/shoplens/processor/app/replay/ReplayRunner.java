package io.shoplens.processor.app.replay;

import io.shoplens.processor.app.config.KafkaSettings;
import io.shoplens.processor.app.config.ModelSettings;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import io.shoplens.processor.app.runtime.StreamsRunner;
import io.shoplens.processor.images.HttpImageResolver;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.CachingInferenceEngine;
import io.shoplens.processor.inference.GenerationBundles;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.topology.LineageHeaders;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-runs inference over a time window of the input topics with a given model, beside the live
 * application and without disturbing it.
 *
 * <ol>
 *   <li>Refuses an application id equal to the live one, a bundle that fails validation, a window
 *       with no records, and an application id that was used before or is running.
 *   <li>Plans the offsets by timestamp ({@link ReplayPlan}); a dry run prints them and stops.
 *   <li>Commits the start offsets for the replay's own consumer group (the application reset tool's
 *       {@code --to-datetime}), then runs the unchanged ShopLens topology under that group,
 *       confined to the window by {@link ReplayProcessorWrapper}, with the bundle's engine behind a
 *       result cache ({@link CachingInferenceEngine}). Outputs carry the run id in their lineage
 *       and headers.
 *   <li>Stops by itself once every input partition is read up to its stop offset and no inference
 *       is in flight, closes Kafka Streams (the last transaction commits), and counts what this run
 *       wrote by reading the output topics back.
 * </ol>
 */
public final class ReplayRunner {
  private static final Logger LOG = LoggerFactory.getLogger(ReplayRunner.class);

  private final ShopLensConfig live;
  private final ReplayRequest request;
  private final Settings settings;
  private final PrintWriter out;
  private final CountDownLatch cancelled = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  /**
   * How the runner behaves, apart from the request.
   *
   * @param progressInterval how often progress is printed and the end is checked
   * @param adminTimeout bound on each admin call
   * @param streamsOverrides Kafka Streams settings that win over the configuration (tests use it
   *     for state directories and fast commits)
   */
  public record Settings(
      Duration progressInterval, Duration adminTimeout, Map<String, ?> streamsOverrides) {
    public Settings {
      Objects.requireNonNull(progressInterval, "progressInterval");
      Objects.requireNonNull(adminTimeout, "adminTimeout");
      streamsOverrides = Map.copyOf(streamsOverrides);
    }

    /** Progress every 2 s, admin calls bounded by 30 s, no overrides. */
    public static Settings defaults() {
      return new Settings(Duration.ofSeconds(2), Duration.ofSeconds(30), Map.of());
    }
  }

  /** Raised when the replay refuses to start; the message says why and what to do. */
  public static final class ReplayRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ReplayRefusedException(String message) {
      super(message);
    }
  }

  /**
   * @param live the live application's configuration (cluster, registry, topology settings; its
   *     application id is the one the replay must not use)
   * @param request what to replay
   * @param settings runner settings
   * @param out where the plan, progress and summary are printed
   */
  public ReplayRunner(
      ShopLensConfig live, ReplayRequest request, Settings settings, PrintWriter out) {
    this.live = Objects.requireNonNull(live, "live");
    this.request = Objects.requireNonNull(request, "request");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.out = Objects.requireNonNull(out, "out");
  }

  /** Asks a running replay to stop early; its summary says it stopped. */
  public void cancel() {
    cancelled.countDown();
  }

  /**
   * Asks a running replay to stop early and waits for it to commit and print its summary (for a
   * shutdown hook: the JVM exits when the hook returns).
   *
   * @return whether it finished within {@code timeout}
   */
  public boolean cancelAndAwait(Duration timeout) {
    cancel();
    try {
      return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * A new run id: UTC time of the start and 32 random bits, e.g. replay-20250102T030405Z-1a2b3c4d.
   */
  static String newRunId(Instant now) {
    return "replay-"
        + DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(now)
        + "-"
        + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  }

  /**
   * Plans, and unless this is a dry run, replays.
   *
   * @return the plan and, unless a dry run, the summary
   * @throws ReplayRefusedException when the replay must not start (nothing was changed)
   * @throws IllegalStateException when Kafka Streams failed during the replay
   */
  public Result run() throws InterruptedException {
    try {
      return plannedRun();
    } finally {
      finished.countDown();
    }
  }

  private Result plannedRun() throws InterruptedException {
    if (request.applicationId().equals(live.applicationId())) {
      throw new ReplayRefusedException(
          "--application-id "
              + request.applicationId()
              + " is the live application's id (application.id in the configuration): a replay"
              + " under it would move the live consumer group's offsets and share its state."
              + " Choose a new id, e.g. "
              + live.applicationId()
              + "-replay-"
              + DateTimeFormatter.ofPattern("yyyyMMdd")
                  .withZone(ZoneOffset.UTC)
                  .format(Instant.now()));
    }
    GenerationBundle bundle;
    try {
      bundle = GenerationBundles.load(request.modelPath());
    } catch (BundleException e) {
      throw new ReplayRefusedException(
          "model bundle " + request.modelPath() + " failed validation: " + e.getMessage());
    }
    try (Admin admin = Admin.create(adminProps())) {
      ReplayPlan plan =
          ReplayPlan.compute(
              admin,
              request.from(),
              request.to(),
              request.uploadLookback(),
              settings.adminTimeout());
      if (plan.totalRecords() == 0) {
        throw new ReplayRefusedException(
            "no records in the window from "
                + request.from()
                + (request.to() == null ? " to the end" : " to " + request.to())
                + " on "
                + String.join(" and ", ReplayPlan.INPUT_TOPICS)
                + " ("
                + plan.ranges().size()
                + " partitions): nothing to replay");
      }
      out.printf(
          "model %s version %s (%s)%n",
          bundle.modelId(), bundle.modelVersion(), bundle.directory());
      if (!request.uploadIds().isEmpty()) {
        out.printf("only uploads %s%n", String.join(",", new TreeSet<>(request.uploadIds())));
      }
      plan.print(out);
      if (request.dryRun()) {
        out.println("dry run: nothing was processed, no offsets were changed");
        out.flush();
        return new Result(plan, null);
      }
      refuseUsedApplicationId(admin);
      return new Result(plan, replay(admin, bundle, plan));
    }
  }

  /**
   * What a run produced.
   *
   * @param plan the offsets planned
   * @param summary null for a dry run
   */
  public record Result(ReplayPlan plan, ReplaySummary summary) {}

  private void refuseUsedApplicationId(Admin admin) throws InterruptedException {
    Map<TopicPartition, OffsetAndMetadata> existing =
        ReplayPlan.get(
            admin.listConsumerGroupOffsets(request.applicationId()).partitionsToOffsetAndMetadata(),
            settings.adminTimeout(),
            "read the offsets of consumer group " + request.applicationId());
    if (!existing.isEmpty()) {
      throw new ReplayRefusedException(
          "application id "
              + request.applicationId()
              + " was used before (its consumer group has committed offsets): its state stores"
              + " would leak into this replay. Use a new --application-id, or remove the old one"
              + " with kafka-streams-application-reset --application-id "
              + request.applicationId());
    }
  }

  private ReplaySummary replay(Admin admin, GenerationBundle bundle, ReplayPlan plan)
      throws InterruptedException {
    long t0 = System.nanoTime();
    String runId = newRunId(Instant.now());
    out.printf("replay run id %s%n", runId);
    out.flush();

    Map<TopicPartition, OffsetAndMetadata> starts = new HashMap<>();
    for (ReplayPlan.Range r : plan.ranges()) {
      // No metadata: Kafka Streams keeps its own there (partition time) and warns about others.
      starts.put(r.partition(), new OffsetAndMetadata(r.contextStart()));
    }
    try {
      ReplayPlan.get(
          admin.alterConsumerGroupOffsets(request.applicationId(), starts).all(),
          settings.adminTimeout(),
          "set the start offsets of consumer group " + request.applicationId());
    } catch (IllegalStateException e) {
      throw new ReplayRefusedException(
          "cannot set the start offsets of "
              + request.applicationId()
              + " (is a replay with this id running?): "
              + e.getMessage());
    }
    Map<TopicPartition, Long> outputStarts = outputEnds(admin);

    ShopLensConfig config = replayConfig();
    InferenceEngine model = ShopLensApplication.loadEngine(bundle, config);
    CachingInferenceEngine engine = new CachingInferenceEngine(model, request.cacheSize());
    ReplayWindow window = new ReplayWindow(plan, request.uploadIds());
    ImageResolver resolver = new HttpImageResolver(config.imageResolverConfig());
    StreamsRunner streams;
    try {
      streams = streams(config, bundle, engine, resolver, window, runId);
    } catch (RuntimeException | Error e) {
      resolver.close();
      engine.close();
      throw e;
    }
    boolean completed;
    long unanswered;
    try {
      streams.start();
      completed = awaitEnd(admin, streams, window, t0);
      unanswered = Math.max(0, count(streams.streams(), ShopLensTopology.WAITING_QUESTIONS_STORE));
    } finally {
      // Stopping commits the last transaction; the runner logs a close that outlasts its timeout.
      streams.stop();
      resolver.close();
      engine.close();
    }
    Throwable failed = failure.get() != null ? failure.get() : streams.failure().orElse(null);
    if (failed != null) {
      throw new IllegalStateException(
          "replay " + runId + " failed: " + failed.getMessage(), failed);
    }
    Map<String, Long> written = countOutputs(outputStarts, runId);
    Map<String, Long> other = new LinkedHashMap<>(written);
    long captions = orZero(other.remove(Topics.CAPTIONS));
    long answers = orZero(other.remove(Topics.ANSWERS));
    long deadLetters = orZero(other.remove(Topics.DEAD_LETTERS));
    ReplaySummary summary =
        new ReplaySummary(
            runId,
            request.applicationId(),
            engine.modelVersion(),
            plan,
            window.counts(),
            captions,
            answers,
            deadLetters,
            other,
            unanswered,
            engine.hits(),
            engine.misses(),
            Duration.ofNanos(System.nanoTime() - t0),
            completed);
    summary.print(out);
    return summary;
  }

  private static long orZero(Long n) {
    return n == null ? 0 : n;
  }

  /** The live configuration with the replay's application id and model. */
  private ShopLensConfig replayConfig() {
    Map<String, Object> s = new LinkedHashMap<>(live.originals());
    s.put(KafkaSettings.APPLICATION_ID.name(), request.applicationId());
    s.put(ModelSettings.MODEL_PATH.name(), request.modelPath().toString());
    return ShopLensConfig.validate(s);
  }

  private StreamsRunner streams(
      ShopLensConfig config,
      GenerationBundle bundle,
      InferenceEngine engine,
      ImageResolver resolver,
      ReplayWindow window,
      String runId) {
    ShopLensTopologyConfig topologyConfig =
        config.topologyConfig(bundle.modelId(), bundle.numQueryTokens()).toBuilder()
            .replayRunId(runId)
            // The catalog embeddings topic is shared with the live application and holds one
            // model version's vectors: a replay must not write another model's into it.
            .recommendations(config.recommendConfig().toBuilder().enabled(false).build())
            .build();
    if (config.recommendConfig().enabled()) {
      LOG.info("replay {}: recommendations are not replayed (captions and answers only)", runId);
    }
    Properties props = config.streamsConfigs(settings.streamsOverrides());
    // The wrapper and its window go only to the builder: the clients need not see them.
    Properties builderProps = new Properties();
    builderProps.putAll(props);
    builderProps.put(StreamsConfig.PROCESSOR_WRAPPER_CLASS_CONFIG, ReplayProcessorWrapper.class);
    builderProps.put(ReplayProcessorWrapper.WINDOW_CONFIG, window);
    StreamsBuilder builder =
        new StreamsBuilder(new TopologyConfig(new StreamsConfig(builderProps)));
    ShopLensTopology.build(builder, topologyConfig, engine, resolver);
    Topology topology = builder.build(props);
    if (!window.wrappedProcessors().containsAll(ReplayProcessorWrapper.REQUIRED)) {
      throw new IllegalStateException(
          "the topology no longer has the processors a replay confines to its window "
              + ReplayProcessorWrapper.REQUIRED
              + " (found "
              + window.wrappedProcessors()
              + "); update ReplayProcessorWrapper");
    }
    LOG.debug("replay topology:\n{}", topology.describe());
    return new StreamsRunner(
        "replay " + runId, topology, props, config.shutdownTimeout(), (newState, oldState) -> {});
  }

  /** Waits for the end of the window; false when cancelled first. */
  private boolean awaitEnd(Admin admin, StreamsRunner streams, ReplayWindow window, long t0)
      throws InterruptedException {
    ReplayProgress progress = new ReplayProgress(out);
    while (true) {
      KafkaStreams.State state = streams.state();
      if (streams.failure().isPresent()
          || state == KafkaStreams.State.ERROR
          || state == KafkaStreams.State.PENDING_ERROR
          || state == KafkaStreams.State.NOT_RUNNING) {
        failure.compareAndSet(
            null,
            streams
                .failure()
                .orElseGet(() -> new IllegalStateException("Kafka Streams stopped: " + state)));
        return false;
      }
      boolean done =
          state == KafkaStreams.State.RUNNING
              && window.inputsDone(committed(admin))
              // Checked after the inputs: a job is in the store before its input counts as read.
              && count(streams.streams(), ShopLensTopology.IN_FLIGHT_STORE) == 0;
      progress.print(window.counts(), System.nanoTime() - t0, done);
      if (done) {
        return true;
      }
      if (cancelled.await(settings.progressInterval().toMillis(), TimeUnit.MILLISECONDS)) {
        out.println("replay stopped on request before the end of its window");
        return false;
      }
    }
  }

  private Map<TopicPartition, Long> committed(Admin admin) throws InterruptedException {
    Map<TopicPartition, Long> out = new HashMap<>();
    try {
      ReplayPlan.get(
              admin
                  .listConsumerGroupOffsets(request.applicationId())
                  .partitionsToOffsetAndMetadata(),
              settings.adminTimeout(),
              "read committed offsets")
          .forEach((p, o) -> out.put(p, o == null ? -1L : o.offset()));
    } catch (IllegalStateException e) {
      LOG.debug("could not read the replay's committed offsets: {}", e.getMessage());
    }
    return out;
  }

  /** Entries in a store of this instance; -1 when it cannot be read now (rebalancing). */
  private static long count(KafkaStreams streams, String store) {
    try {
      ReadOnlyKeyValueStore<String, Object> s =
          streams.store(
              StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.keyValueStore()));
      long n = 0;
      try (KeyValueIterator<String, Object> all = s.all()) {
        while (all.hasNext()) {
          all.next();
          n++;
        }
      }
      return n;
    } catch (InvalidStateStoreException e) {
      return -1;
    }
  }

  /** Current ends of the output topics that exist: this run's outputs come after them. */
  private Map<TopicPartition, Long> outputEnds(Admin admin) throws InterruptedException {
    Set<String> existing =
        ReplayPlan.get(admin.listTopics().names(), settings.adminTimeout(), "list topics");
    List<String> outputs =
        List.of(Topics.CAPTIONS, Topics.ANSWERS, Topics.DEAD_LETTERS, Topics.RECOMMENDATIONS)
            .stream()
            .filter(existing::contains)
            .toList();
    Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
    ReplayPlan.get(
            admin.describeTopics(outputs).allTopicNames(),
            settings.adminTimeout(),
            "describe outputs")
        .forEach(
            (name, d) ->
                d.partitions()
                    .forEach(
                        p ->
                            specs.put(
                                new TopicPartition(name, p.partition()), OffsetSpec.latest())));
    Map<TopicPartition, Long> ends = new HashMap<>();
    ReplayPlan.get(
            admin.listOffsets(specs, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all(),
            settings.adminTimeout(),
            "list output offsets")
        .forEach((p, i) -> ends.put(p, i.offset()));
    return ends;
  }

  /** Outputs of this run per topic: records after {@code starts} with this run's header. */
  private Map<String, Long> countOutputs(Map<TopicPartition, Long> starts, String runId) {
    Map<String, Object> props = live.consumerConfigs();
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "shoplens-replay-summary");
    Map<String, Long> counts = new LinkedHashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>(starts.keySet());
      consumer.assign(partitions);
      starts.forEach(consumer::seek);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, settings.adminTimeout());
      long deadline = System.nanoTime() + settings.adminTimeout().toNanos();
      while (partitions.stream().anyMatch(p -> consumer.position(p) < ends.get(p))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "could not read this run's outputs back within " + settings.adminTimeout());
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (runId.equals(LineageHeaders.get(r.headers(), LineageHeaders.REPLAY_RUN_ID))) {
            counts.merge(r.topic(), 1L, Long::sum);
          }
        }
      }
    }
    return counts;
  }

  private Map<String, Object> adminProps() {
    return live.adminConfigs();
  }
}
