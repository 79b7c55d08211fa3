package io.shoplens.bench;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfigBuilder;
import io.shoplens.processor.topology.Topic;
import io.shoplens.processor.topology.Topics;
import io.shoplens.registry.MockSchemaRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

/**
 * ShopLens end to end through Kafka, exactly-once, against the inference engine alone: same model,
 * same batch policy, same requests, one JVM, one run. A program, not a test ({@code
 * scripts/bench-e2e} runs it); prints a Markdown table on stdout, progress on stderr.
 *
 * <p>Workload: {@code uploads} uploads, each with its own synthetic image, and {@code questions}
 * standalone questions per upload. With the topology's settings each upload costs one caption and
 * one request per attribute prompt, each question one answer: the engine-alone phase submits
 * exactly those requests, at most {@code maxInFlightRequests} at a time (the topology's own bound).
 *
 * <ol>
 *   <li>Warm-up: a round's worth of uploads through the engine, untimed. Then an in-process KRaft
 *       broker and the ShopLens topology on Kafka Streams with {@code exactly_once_v2}, on the same
 *       engine, and as many uploads again through Kafka, untimed (the JIT warms both paths alike).
 *   <li>{@code rounds} rounds (default 3), each of two phases on fresh uploads:
 *       <ul>
 *         <li>engine alone: every request submitted; time from the first submit to the last result;
 *         <li>end to end: every upload and question produced at once; time from the first send
 *             until a {@code read_committed} consumer has every answer and caption.
 *       </ul>
 *       Alternating keeps a change in the machine's load from favouring one side; the table reports
 *       the median round of each, and the ratio of every round.
 *   <li>Latency: new uploads with their questions, paced to half the engine-alone throughput
 *       (median); latency of each answer from its upload's send to its receipt by the {@code
 *       read_committed} consumer, so it includes the commit interval.
 * </ol>
 *
 * <p>Each phase uses images no earlier phase saw, so the engine's vision cache helps no phase more
 * than another. The broker, Streams and the engine share this JVM and the machine's cores: the
 * ratio is what the Kafka side costs on the same hardware.
 *
 * <pre>
 * java ... io.shoplens.bench.EndToEndBenchmark [--bundle DIR] [--uploads 24]
 *     [--questions 8] [--partitions 4] [--stream-threads 1] [--max-new-tokens N] [--batch 8]
 *     [--batch-wait-ms 10] [--intra-op 0] [--rounds 3] [--commit-interval-ms 100]
 *     [--latency-uploads 30]
 * </pre>
 */
public final class EndToEndBenchmark {
  private static final String[] QUESTIONS = {
    "what is the colour of the dress?",
    "what is it made of?",
    "is it for men or women?",
    "what pattern does it have?",
    "how would you style it?",
    "is it formal?",
    "what is the brand?",
    "does it have sleeves?"
  };

  private EndToEndBenchmark() {}

  public static void main(String[] args) throws Exception {
    Args a = Args.parse(args);
    // The table alone goes to stdout; Kafka's test kit prints its own lines there, so they go to
    // stderr with the progress.
    PrintStream out = System.out;
    System.setOut(System.err);
    EngineConfig engineConfig =
        EngineConfig.builder()
            .intraOpThreads(a.intraOp)
            .interOpThreads(1)
            .maxBatchSize(a.batch)
            .maxBatchWait(Duration.ofMillis(a.batchWaitMs))
            .build();
    String scope = "bench-e2e-" + UUID.randomUUID();
    ShopLensTopologyConfigBuilder tb =
        ShopLensTopologyConfig.builder(
            Map.of("schema.registry.url", MockSchemaRegistry.MOCK_URL_PREFIX + scope));
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(a.bundle, engineConfig)) {
      tb.modelId(engine.modelVersion());
      if (a.maxNewTokens > 0) {
        tb.captionOptions(DecodingOptions.greedy().withMaxNewTokens(a.maxNewTokens))
            .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(a.maxNewTokens))
            .answerOptions(DecodingOptions.greedy().withMaxNewTokens(a.maxNewTokens));
      }
      ShopLensTopologyConfig config = tb.build();
      int perUpload = 1 + config.attributePrompts().size() + a.questions;
      log(
          "model %s, %d uploads x (1 caption + %d attributes + %d questions) = %d requests per"
              + " phase",
          engine.modelVersion(),
          a.uploads,
          config.attributePrompts().size(),
          a.questions,
          a.uploads * perUpload);

      log("warm-up");
      runEngineAlone(engine, config, workload(a, a.uploads, 1_000));

      Path stateDir = Files.createTempDirectory("shoplens-bench-e2e-");
      try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start()) {
        for (String topic :
            List.of(
                Topics.IMAGE_UPLOADS,
                Topics.QUESTIONS,
                Topics.CAPTIONS,
                Topics.ANSWERS,
                Topics.DEAD_LETTERS)) {
          kafka.createTopics(topic, a.partitions, Map.of());
        }
        StreamsBuilder builder = new StreamsBuilder();
        Topics topics =
            ShopLensTopology.build(
                builder, config, engine, ImageResolver.inlineOnly(config.maxInlineImageBytes()));
        Properties props = new Properties();
        props.putAll(ShopLensTopology.streamsConfig());
        props.putAll(config.serdeConfig());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shoplens-bench-e2e");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, a.streamThreads);
        if (a.commitIntervalMs > 0) {
          props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, a.commitIntervalMs);
        }
        props.put(
            StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        long commitInterval =
            new StreamsConfig(props).getLong(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG);
        try (KafkaStreams streams = new KafkaStreams(builder.build(props), props);
            Receiver receiver = new Receiver(kafka, topics);
            KafkaProducer<byte[], byte[]> producer = producer(kafka)) {
          CountDownLatch running = new CountDownLatch(1);
          streams.setStateListener(
              (now, old) -> {
                if (now == KafkaStreams.State.RUNNING) {
                  running.countDown();
                }
              });
          streams.start();
          if (!running.await(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("Kafka Streams not RUNNING within 120 s");
          }
          receiver.start();

          // The Kafka path gets a warm-up as the engine did: one untimed pass of a full round's
          // uploads. Without it the first end-to-end round ran in a cold JIT (Streams, the broker,
          // Avro, RocksDB) and came out at a third of the later rounds.
          log("warm-up through Kafka");
          List<Unit> warm = workload(a, a.uploads, 5_000);
          for (Unit u : warm) {
            u.send(producer, topics, System.nanoTime());
          }
          producer.flush();
          receiver.awaitAll(warm, a.questions, Duration.ofMinutes(10));

          // Rounds alternate the two phases, so that a change in the machine's load (other
          // processes) hits both alike; the table gives medians.
          List<Phase> alone = new ArrayList<>();
          List<Phase> endToEnd = new ArrayList<>();
          int requests = a.uploads * perUpload;
          for (int round = 1; round <= a.rounds; round++) {
            int seedBase = 10_000 * round;
            Phase e =
                measure(
                    engine, () -> runEngineAlone(engine, config, workload(a, a.uploads, seedBase)));
            alone.add(e);
            log("round %d: engine alone %.1f requests/s", round, requests / e.seconds());
            List<Unit> units = workload(a, a.uploads, seedBase + 5_000);
            Phase k =
                measure(
                    engine,
                    () -> {
                      long start = System.nanoTime();
                      for (Unit u : units) {
                        u.send(producer, topics, System.nanoTime());
                      }
                      producer.flush();
                      long last = receiver.awaitAll(units, a.questions, Duration.ofMinutes(10));
                      return (last - start) / 1e9;
                    });
            endToEnd.add(k);
            log(
                "round %d: end to end %.1f requests/s (%.0f%%)",
                round, requests / k.seconds(), 100 * e.seconds() / k.seconds());
          }
          Phase engineMedian = median(alone);
          Phase e2eMedian = median(endToEnd);

          double engineQuestions = a.uploads * (double) a.questions / engineMedian.seconds();
          double targetQuestions = engineQuestions / 2;
          double unitsPerSecond = targetQuestions / a.questions;
          log(
              "latency at %.1f questions/s (%d uploads, one every %.0f ms)",
              targetQuestions, a.latencyUploads, 1000 / unitsPerSecond);
          List<Unit> paced = workload(a, a.latencyUploads, 1_000_000);
          long interval = (long) (1e9 / unitsPerSecond);
          long t0 = System.nanoTime();
          for (int i = 0; i < paced.size(); i++) {
            long due = t0 + i * interval;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) {
              LockSupport.parkNanos(wait);
            }
            paced.get(i).send(producer, topics, System.nanoTime());
          }
          producer.flush();
          receiver.awaitAll(paced, a.questions, Duration.ofMinutes(10));
          long[] latencies = receiver.answerLatencies(paced, a.questions);
          double offered = paced.size() * a.questions / ((System.nanoTime() - t0) / 1e9);
          log("dead letters: %d", receiver.deadLetters.get());

          out.println(
              table(
                  a,
                  engine,
                  config,
                  commitInterval,
                  requests,
                  alone,
                  endToEnd,
                  engineMedian,
                  e2eMedian,
                  targetQuestions,
                  offered,
                  latencies,
                  receiver.deadLetters.get()));
          streams.close(Duration.ofSeconds(30));
        }
      } finally {
        MockSchemaRegistry.dropScope(scope);
        deleteQuietly(stateDir);
      }
    }
  }

  /** One timed phase: wall time, the engine's work in it, and CPU cores this JVM kept busy. */
  private record Phase(double seconds, EngineStats stats, double cores) {}

  private interface Timed {
    double run() throws Exception;
  }

  private static Phase measure(BatchingInferenceEngine engine, Timed body) throws Exception {
    EngineStats before = engine.stats();
    long cpu0 = processCpuNanos();
    long t0 = System.nanoTime();
    double seconds = body.run();
    double cpu = (processCpuNanos() - cpu0) / 1e9;
    double wall = (System.nanoTime() - t0) / 1e9;
    return new Phase(seconds, delta(before, engine.stats()), cpu / wall);
  }

  /** The round with the median time (the lower middle one for an even count). */
  private static Phase median(List<Phase> phases) {
    List<Phase> sorted = new ArrayList<>(phases);
    sorted.sort(Comparator.comparingDouble(Phase::seconds));
    return sorted.get((sorted.size() - 1) / 2);
  }

  /** One upload and its questions. */
  private record Unit(String uploadId, byte[] image, List<String> questions, long[] sentNanos) {
    void send(KafkaProducer<byte[], byte[]> producer, Topics topics, long now) {
      sentNanos[0] = now;
      ImageUploaded upload =
          ImageUploaded.newBuilder()
              .setUploadId(uploadId)
              .setUserId("bench")
              .setProductId(null)
              .setImage(new InlineImage(ByteBuffer.wrap(image), "image/png"))
              .setUploadedAt(Instant.now())
              .build();
      send(producer, topics.imageUploads(), upload);
      for (int q = 0; q < questions.size(); q++) {
        QuestionAsked asked =
            QuestionAsked.newBuilder()
                .setQuestionId(uploadId + "-q" + q)
                .setUploadId(uploadId)
                .setUserId("bench")
                .setConversationId(null)
                .setText(questions.get(q))
                .setGenerationOptions(null)
                .setAskedAt(Instant.now())
                .build();
        send(producer, topics.questions(), asked);
      }
    }

    private <V> void send(KafkaProducer<byte[], byte[]> producer, Topic<String, V> topic, V v) {
      producer.send(
          new ProducerRecord<>(
              topic.name(),
              uploadId.getBytes(StandardCharsets.UTF_8),
              topic.valueSerde().serializer().serialize(topic.name(), v)));
    }
  }

  private static List<Unit> workload(Args a, int uploads, int seedBase) {
    List<Unit> units = new ArrayList<>();
    for (int u = 0; u < uploads; u++) {
      List<String> qs = new ArrayList<>();
      for (int q = 0; q < a.questions; q++) {
        qs.add(QUESTIONS[(u + q) % QUESTIONS.length]);
      }
      units.add(
          new Unit(
              "bench-" + (seedBase + u), SyntheticImages.png(seedBase + u, 128), qs, new long[1]));
    }
    return units;
  }

  /** The requests the topology makes for {@code units}, at most the topology's bound in flight. */
  private static double runEngineAlone(
      BatchingInferenceEngine engine, ShopLensTopologyConfig config, List<Unit> units)
      throws InterruptedException {
    Semaphore inFlight = new Semaphore(config.maxInFlightRequests());
    List<CompletableFuture<GenerationResult>> all = new ArrayList<>();
    long start = System.nanoTime();
    for (Unit u : units) {
      List<GenerationRequest> requests = new ArrayList<>();
      requests.add(
          GenerationRequest.caption(u.uploadId() + "/c", u.image(), config.captionOptions(), 0));
      for (ShopLensTopologyConfig.AttributePrompt p : config.attributePrompts()) {
        requests.add(
            GenerationRequest.question(
                u.uploadId() + "/" + p.name(),
                u.image(),
                p.question(),
                List.of(),
                config.attributeOptions(),
                0));
      }
      for (int q = 0; q < u.questions().size(); q++) {
        requests.add(
            GenerationRequest.question(
                u.uploadId() + "/q" + q,
                u.image(),
                u.questions().get(q),
                List.of(),
                config.answerOptions(),
                0));
      }
      for (GenerationRequest r : requests) {
        inFlight.acquire();
        CompletableFuture<GenerationResult> f = engine.submit(r);
        f.whenComplete((res, err) -> inFlight.release());
        all.add(f);
      }
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
    return (System.nanoTime() - start) / 1e9;
  }

  /** Reads answers, captions and dead letters read_committed, noting when each arrived. */
  private static final class Receiver implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final Map<String, Long> answers = new ConcurrentHashMap<>();
    private final Map<String, Long> captions = new ConcurrentHashMap<>();
    private final AtomicInteger deadLetters = new AtomicInteger();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;
    private volatile Throwable failure;

    Receiver(EmbeddedKafkaCluster kafka, Topics topics) {
      this.topics = topics;
      consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrapServers(),
                  ConsumerConfig.GROUP_ID_CONFIG,
                  "bench-receiver-" + UUID.randomUUID(),
                  ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                  "earliest",
                  ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                  "read_committed"),
              new ByteArrayDeserializer(),
              new ByteArrayDeserializer());
      thread = new Thread(this::run, "bench-receiver");
      thread.setDaemon(true);
    }

    void start() {
      consumer.subscribe(List.of(Topics.ANSWERS, Topics.CAPTIONS, Topics.DEAD_LETTERS));
      thread.start();
    }

    private void run() {
      try {
        while (!stop.get()) {
          for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
            long now = System.nanoTime();
            switch (r.topic()) {
              case Topics.ANSWERS ->
                  answers.putIfAbsent(
                      topics
                          .answers()
                          .valueSerde()
                          .deserializer()
                          .deserialize(r.topic(), r.value())
                          .getQuestionId(),
                      now);
              case Topics.CAPTIONS ->
                  captions.putIfAbsent(
                      topics
                          .captions()
                          .valueSerde()
                          .deserializer()
                          .deserialize(r.topic(), r.value())
                          .getUploadId(),
                      now);
              default -> deadLetters.incrementAndGet();
            }
          }
        }
      } catch (Throwable t) {
        failure = t;
      }
    }

    /** Waits for every answer and caption of {@code units}; returns when the last one came. */
    long awaitAll(List<Unit> units, int questions, Duration timeout) {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        if (failure != null) {
          throw new IllegalStateException("receiver failed", failure);
        }
        long last = 0;
        boolean all = true;
        for (Unit u : units) {
          Long c = captions.get(u.uploadId());
          all &= c != null;
          last = c == null ? last : Math.max(last, c);
          for (int q = 0; q < questions && all; q++) {
            Long t = answers.get(u.uploadId() + "-q" + q);
            all = t != null;
            last = t == null ? last : Math.max(last, t);
          }
          if (!all) {
            break;
          }
        }
        if (all) {
          return last;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "not every answer arrived within " + timeout + "; dead letters: " + deadLetters);
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
      }
    }

    long[] answerLatencies(List<Unit> units, int questions) {
      long[] out = new long[units.size() * questions];
      int i = 0;
      for (Unit u : units) {
        for (int q = 0; q < questions; q++) {
          out[i++] = answers.get(u.uploadId() + "-q" + q) - u.sentNanos()[0];
        }
      }
      Arrays.sort(out);
      return out;
    }

    @Override
    public void close() {
      stop.set(true);
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        // Close the consumer all the same; whoever interrupted us still sees the flag.
        Thread.currentThread().interrupt();
      }
      consumer.close();
    }
  }

  private static String table(
      Args a,
      BatchingInferenceEngine engine,
      ShopLensTopologyConfig config,
      long commitIntervalMs,
      int requests,
      List<Phase> alone,
      List<Phase> endToEnd,
      Phase engine50,
      Phase e2e50,
      double targetQuestions,
      double offered,
      long[] latencies,
      int deadLetters) {
    double questions = a.uploads * (double) a.questions;
    StringBuilder rounds = new StringBuilder();
    for (int i = 0; i < alone.size(); i++) {
      rounds.append(i == 0 ? "" : ", ");
      rounds.append(
          String.format(
              Locale.ROOT, "%.0f%%", 100 * alone.get(i).seconds() / endToEnd.get(i).seconds()));
    }
    StringBuilder t = new StringBuilder();
    t.append(
        String.format(
            Locale.ROOT,
            "| median of %d rounds | engine alone | end to end (Kafka, exactly-once) | ratio |%n"
                + "|---|---:|---:|---:|%n"
                + "| engine requests/s | %.1f | %.1f | %.0f%% |%n"
                + "| questions answered/s | %.1f | %.1f | %.0f%% |%n"
                + "| ratio per round | | | %s |%n"
                + "| mean batch size | %.2f | %.2f | |%n"
                + "| CPU cores busy (this JVM, broker included) | %.2f | %.2f | |%n",
            alone.size(),
            requests / engine50.seconds(),
            requests / e2e50.seconds(),
            100 * engine50.seconds() / e2e50.seconds(),
            questions / engine50.seconds(),
            questions / e2e50.seconds(),
            100 * engine50.seconds() / e2e50.seconds(),
            rounds,
            meanBatch(engine50.stats()),
            meanBatch(e2e50.stats()),
            engine50.cores(),
            e2e50.cores()));
    t.append(
        String.format(
            Locale.ROOT,
            "%n| upload-to-answer latency, %.1f questions/s offered | ms |%n"
                + "|---|---:|%n"
                + "| p50 | %.0f |%n"
                + "| p99 | %.0f |%n"
                + "| max | %.0f |%n"
                + "| answers | %d |%n",
            offered,
            percentile(latencies, 50) / 1e6,
            percentile(latencies, 99) / 1e6,
            latencies[latencies.length - 1] / 1e6,
            latencies.length));
    t.append(
        String.format(
            Locale.ROOT,
            "%nModel %s; per round and phase %d uploads x (caption + %d attribute prompts + %d"
                + " questions) = %d requests; max new tokens: caption %d, attributes %d, answers"
                + " %d; batches of %d within %d ms; %d requests in flight; intra-op threads %s;"
                + " %d partitions, %d stream thread(s), commit interval %d ms; latency load = half"
                + " the engine alone (%.1f questions/s); dead letters %d; %d CPUs, load average"
                + " %s; Java %s.%n",
            engine.modelVersion(),
            a.uploads,
            config.attributePrompts().size(),
            a.questions,
            requests,
            config.captionOptions().maxNewTokens(),
            config.attributeOptions().maxNewTokens(),
            config.answerOptions().maxNewTokens(),
            a.batch,
            a.batchWaitMs,
            config.maxInFlightRequests(),
            a.intraOp == 0 ? "ORT default" : Integer.toString(a.intraOp),
            a.partitions,
            a.streamThreads,
            commitIntervalMs,
            targetQuestions,
            deadLetters,
            Runtime.getRuntime().availableProcessors(),
            loadAverage(),
            System.getProperty("java.version")));
    return t.toString();
  }

  /** CPU time of this process so far (every thread: engine, broker, Streams, clients). */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static double meanBatch(EngineStats s) {
    return s.batches() == 0 ? 0 : (double) s.batchedRequests() / s.batches();
  }

  /** Counters as their change from {@code a} to {@code b}, gauges as {@code b} has them. */
  private static EngineStats delta(EngineStats a, EngineStats b) {
    return new EngineStats(
        b.queueDepth(),
        b.submitted() - a.submitted(),
        b.rejected() - a.rejected(),
        b.completed() - a.completed(),
        b.failed() - a.failed(),
        b.batches() - a.batches(),
        b.batchedRequests() - a.batchedRequests(),
        b.maxBatchSize(),
        b.visionCacheHits() - a.visionCacheHits(),
        b.visionCacheMisses() - a.visionCacheMisses(),
        b.visionRuns() - a.visionRuns(),
        b.tokensGenerated() - a.tokensGenerated(),
        b.preprocessNanos() - a.preprocessNanos(),
        b.visionNanos() - a.visionNanos(),
        b.prefillNanos() - a.prefillNanos(),
        b.decodeNanos() - a.decodeNanos(),
        b.busyRows(),
        b.kvBytesInUse(),
        b.kvBudgetBytes(),
        b.prefixCacheHits() - a.prefixCacheHits(),
        b.prefixCacheMisses() - a.prefixCacheMisses(),
        b.prefixCacheBytes(),
        b.visionCacheEntries());
  }

  /** Nearest-rank percentile of sorted values. */
  private static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static KafkaProducer<byte[], byte[]> producer(EmbeddedKafkaCluster kafka) {
    // linger 0: the storefront's batching is not what this measures.
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.LINGER_MS_CONFIG,
            0),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log("could not delete %s: %s", dir, e);
    }
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "[bench-e2e] " + format + "%n", args);
  }

  private static final class Args {
    // Run from the repository root, as scripts/bench-e2e does.
    Path bundle = Path.of("processor/src/test/resources/models/tiny-blip2-opt");
    int uploads = 24;
    int questions = 8;
    int partitions = 4;
    int streamThreads = 1;
    int maxNewTokens = 0;
    int batch = 8;
    int batchWaitMs = 10;
    int intraOp = 0;
    int latencyUploads = 30;
    int rounds = 3;
    int commitIntervalMs = 0;

    static Args parse(String[] args) {
      Args a = new Args();
      for (int i = 0; i < args.length; i++) {
        String name = args[i];
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        String v = args[++i];
        switch (name) {
          case "--bundle" -> a.bundle = Path.of(v);
          case "--uploads" -> a.uploads = positive(name, v);
          case "--questions" -> a.questions = positive(name, v);
          case "--partitions" -> a.partitions = positive(name, v);
          case "--stream-threads" -> a.streamThreads = positive(name, v);
          case "--max-new-tokens" -> a.maxNewTokens = positive(name, v);
          case "--batch" -> a.batch = positive(name, v);
          case "--batch-wait-ms" -> a.batchWaitMs = Integer.parseInt(v);
          case "--intra-op" -> a.intraOp = Integer.parseInt(v);
          case "--latency-uploads" -> a.latencyUploads = positive(name, v);
          case "--rounds" -> a.rounds = positive(name, v);
          case "--commit-interval-ms" -> a.commitIntervalMs = positive(name, v);
          default -> throw new IllegalArgumentException("unknown option " + name);
        }
      }
      if (!Files.isRegularFile(a.bundle.resolve("manifest.json"))) {
        throw new IllegalArgumentException("no model bundle (manifest.json) in " + a.bundle);
      }
      return a;
    }

    private static int positive(String name, String v) {
      int n = Integer.parseInt(v);
      if (n < 1) {
        throw new IllegalArgumentException(name + " must be >= 1, got " + v);
      }
      return n;
    }
  }
}
