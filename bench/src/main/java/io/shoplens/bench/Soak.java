package io.shoplens.bench;

import io.shoplens.demo.DemoRegistryServer;
import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.topology.BoundedRocksDbMemory;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.Topic;
import io.shoplens.processor.topology.Topics;
import io.shoplens.registry.MockSchemaRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The soak (issue 19): steady load through Kafka with exactly-once for a given time, the ShopLens
 * instance in its own JVM, sampled every minute, so that a leak shows as a slope. A program, not a
 * test ({@code scripts/soak} runs it); writes {@code soak.csv} and {@code soak.md} to its output
 * folder and prints the report.
 *
 * <p>This JVM holds an in-process KRaft broker, the demo's in-memory Schema Registry served over
 * REST, a producer and a {@code read_committed} consumer. The ShopLens instance is the production
 * {@code shoplens run} ({@code io.shoplens.processor.app.Main}) in a child JVM with its own heap
 * limit, state directory and {@code /metrics}, so that its heap, RSS, file descriptors and threads
 * are its own.
 *
 * <p>Load: {@code --uploads-per-minute} uploads at a fixed rate, each with its own synthetic image
 * (a pool of {@code --images} images, so images come back and the vision cache both hits and
 * evicts) and {@code --questions} questions: one standalone, the rest turns of one conversation.
 * Upload retention and conversation time-to-live are shortened ({@code --retention}) so that the
 * stores reach their steady state within the run: a store that is bounded by time then stays flat.
 * For the same reason the instance's RocksDB memory budget ({@code --rocksdb-memory-mib}, default
 * 16 MiB against ShopLens's 128) is small enough to be reached within the run; the report shows the
 * shared block cache's usage (memtables included) and the memtables beside that budget.
 *
 * <p>Every {@code --sample-seconds}: heap used after a full GC ({@code jcmd GC.run}, then {@code
 * GC.heap_info}), RSS and threads ({@code /proc/PID/status}), open file descriptors ({@code
 * /proc/PID/fd}), the child's CPU time, state directory bytes, RocksDB estimated keys per store,
 * vision and prefix cache sizes and the engine queue (from {@code /metrics}), and the consumer lag
 * of the application on its input topics (committed offsets against end offsets).
 *
 * <p>Verdict per series: the least-squares slope over the second half of the samples, projected
 * over one hour, must be at most the series' bound: the larger of an absolute floor and a share of
 * the series' second-half mean (see {@link Series}). Only growth counts.
 */
public final class Soak {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final Pattern HEAP_USED = Pattern.compile("used (\\d+)K");
  private static final Pattern METRIC =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})? ([^ ]+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_]+)=\"([^\"]*)\"");
  private static final List<String> STORES =
      List.of(
          ShopLensTopology.UPLOADS_STORE,
          ShopLensTopology.WAITING_QUESTIONS_STORE,
          ShopLensTopology.CONVERSATIONS_STORE,
          ShopLensTopology.IN_FLIGHT_STORE,
          ShopLensTopology.EXPIRY_STORE);
  private static final String[] TEXTS = {
    "what is it?",
    "what colour is it?",
    "is it for men?",
    "what is the material?",
    "is it striped?",
    "how would you style it?"
  };

  private Soak() {}

  public static void main(String[] argv) throws Exception {
    Args a = Args.parse(argv);
    Files.createDirectories(a.out);
    Path stateDir = a.out.resolve("state");
    deleteQuietly(stateDir);
    Files.createDirectories(stateDir);
    String scope = "soak-" + UUID.randomUUID();
    String appId = "shoplens-soak";
    int httpPort = freePort();
    List<Sample> samples = new ArrayList<>();
    Counts counts = new Counts();
    Instant started = Instant.now();
    String loadBefore = loadAverage();
    Process child = null;
    try (DemoRegistryServer registry =
            DemoRegistryServer.start(MockSchemaRegistry.getClientForScope(scope), 0);
        EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start()) {
      for (String topic :
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.DEAD_LETTERS)) {
        kafka.createTopics(topic, a.partitions, Map.of());
      }
      Topics topics = Topics.create(Map.of("schema.registry.url", registry.url()));
      Path config = a.out.resolve("shoplens-soak.properties");
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("bootstrap.servers", kafka.bootstrapServers());
      settings.put("application.id", appId);
      settings.put("schema.registry.url", registry.url());
      settings.put("shoplens.model.path", a.bundle.toAbsolutePath().toString());
      settings.put("shoplens.http.port", Integer.toString(httpPort));
      settings.put("shoplens.upload.retention.ms", Long.toString(a.retention.toMillis()));
      settings.put("shoplens.conversation.ttl.ms", Long.toString(a.retention.toMillis()));
      settings.put("shoplens.inference.intra.op.threads", "1");
      settings.put(
          BoundedRocksDbMemory.MEMORY_BYTES_CONFIG, Long.toString(a.rocksDbMemoryMib << 20));
      settings.put("state.dir", stateDir.toAbsolutePath().toString());
      settings.put("auto.offset.reset", "earliest");
      StringBuilder props = new StringBuilder("# written by io.shoplens.bench.Soak\n");
      settings.forEach((k, v) -> props.append(k).append('=').append(v).append('\n'));
      Files.writeString(config, props);

      child = startChild(a, config);
      log("ShopLens child pid %d, log %s", child.pid(), a.out.resolve("shoplens.log"));
      awaitReady(child, httpPort, Duration.ofSeconds(240));
      log(
          "ready; load for %d min at %d uploads/min x (1 + %d questions)",
          a.minutes, a.uploadsPerMinute, a.questions);

      try (KafkaProducer<byte[], byte[]> producer = producer(kafka);
          Receiver receiver = new Receiver(kafka, topics, counts);
          ChangelogKeys changelogs = new ChangelogKeys(kafka, appId);
          Admin admin =
              Admin.create(
                  Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
        receiver.start();
        changelogs.start();
        ScheduledExecutorService load = Executors.newSingleThreadScheduledExecutor();
        long periodMicros = 60_000_000L / a.uploadsPerMinute;
        AtomicLong next = new AtomicLong();
        load.scheduleAtFixedRate(
            () -> {
              try {
                sendUpload(producer, topics, a, next.getAndIncrement(), counts);
              } catch (RuntimeException e) {
                counts.sendErrors.incrementAndGet();
              }
            },
            0,
            periodMicros,
            TimeUnit.MICROSECONDS);
        long t0 = System.nanoTime();
        for (int minute = 0; ; minute++) {
          long due = t0 + TimeUnit.SECONDS.toNanos((long) minute * a.sampleSeconds);
          long wait = due - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
          if (!child.isAlive()) {
            throw new IllegalStateException("ShopLens died; see " + a.out.resolve("shoplens.log"));
          }
          Sample s = sample(child.pid(), httpPort, stateDir, admin, appId, counts, changelogs, t0);
          samples.add(s);
          log("%s", s.describe());
          writeCsv(a.out.resolve("soak.csv"), samples);
          if ((long) minute * a.sampleSeconds >= a.minutes * 60L) {
            break;
          }
        }
        load.shutdown();
        load.awaitTermination(30, TimeUnit.SECONDS);
        producer.flush();
        log("load stopped; draining");
        long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < drainUntil
            && (counts.answered() < counts.questions.get()
                || counts.captioned() < counts.uploads.get())) {
          TimeUnit.MILLISECONDS.sleep(500);
        }
        // A few more polls: a duplicate that is merely late is counted too.
        TimeUnit.SECONDS.sleep(5);
        // SIGTERM while the broker is still up, so that ShopLens's shutdown can commit.
        stop(child);
      }
    } finally {
      if (child != null && child.isAlive()) {
        stop(child);
      }
      MockSchemaRegistry.dropScope(scope);
    }
    Report report =
        report(a, samples, counts, started, loadBefore, loadAverage(), child.exitValue());
    Files.writeString(a.out.resolve("soak.md"), report.text());
    System.out.print(report.text());
    System.exit(report.passed() ? 0 : 1);
  }

  private static void stop(Process child) throws InterruptedException {
    child.destroy();
    if (!child.waitFor(60, TimeUnit.SECONDS)) {
      child.destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** The Markdown report, and whether every series was flat and every output came once. */
  record Report(String text, boolean passed) {}

  // ---- load

  private static void sendUpload(
      KafkaProducer<byte[], byte[]> producer, Topics topics, Args a, long i, Counts counts) {
    String uploadId = "soak-" + i;
    ImageUploaded upload =
        ImageUploaded.newBuilder()
            .setUploadId(uploadId)
            .setUserId("soak")
            .setProductId(null)
            .setImage(
                new InlineImage(
                    ByteBuffer.wrap(SyntheticImages.png((int) (i % a.images), 96)), "image/png"))
            .setUploadedAt(Instant.now())
            .build();
    send(producer, topics.imageUploads(), uploadId, upload, counts);
    counts.uploads.incrementAndGet();
    for (int q = 0; q < a.questions; q++) {
      QuestionAsked asked =
          QuestionAsked.newBuilder()
              .setQuestionId(uploadId + "-q" + q)
              .setUploadId(uploadId)
              .setUserId("soak")
              .setConversationId(q == 0 ? null : "c-" + uploadId)
              .setText(TEXTS[(int) ((i + q) % TEXTS.length)])
              .setGenerationOptions(null)
              .setAskedAt(Instant.now())
              .build();
      send(producer, topics.questions(), uploadId, asked, counts);
      counts.questions.incrementAndGet();
    }
  }

  private static <V> void send(
      KafkaProducer<byte[], byte[]> producer,
      Topic<String, V> topic,
      String key,
      V value,
      Counts counts) {
    producer.send(
        new ProducerRecord<>(
            topic.name(),
            key.getBytes(StandardCharsets.UTF_8),
            topic.valueSerde().serializer().serialize(topic.name(), value)),
        (meta, e) -> {
          if (e != null) {
            counts.sendErrors.incrementAndGet();
          }
        });
  }

  private static KafkaProducer<byte[], byte[]> producer(EmbeddedKafkaCluster kafka) {
    return new KafkaProducer<>(
        Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
            kafka.bootstrapServers(),
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.LINGER_MS_CONFIG,
            5),
        new ByteArraySerializer(),
        new ByteArraySerializer());
  }

  // ---- the child

  private static Process startChild(Args a, Path config) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx" + a.childHeap);
    command.add("-XX:+UseG1GC");
    String djl = System.getProperty("DJL_CACHE_DIR");
    if (djl != null) {
      command.add("-DDJL_CACHE_DIR=" + djl);
    }
    command.add("io.shoplens.processor.app.Main");
    command.add("run");
    command.add("--config");
    command.add(config.toAbsolutePath().toString());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.redirectOutput(a.out.resolve("shoplens.log").toFile());
    // The class path goes through CLASSPATH, not -cp: ONNX Runtime Java crashes when the command
    // line is longer than about 4 KB (see scripts/bench-engine).
    builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    return builder.start();
  }

  private static void awaitReady(Process child, int port, Duration limit) throws Exception {
    long until = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < until) {
      if (!child.isAlive()) {
        throw new IllegalStateException("ShopLens exited with " + child.exitValue());
      }
      try {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      TimeUnit.MILLISECONDS.sleep(500);
    }
    throw new IllegalStateException("ShopLens not ready within " + limit);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  // ---- samples

  /** One minute's sample. Sizes in bytes, -1 where a figure could not be read. */
  record Sample(
      double minute,
      long heapAfterGc,
      long rss,
      long fds,
      long threads,
      double cpuSeconds,
      long stateDirBytes,
      Map<String, Long> storeKeys,
      Map<String, Long> liveKeys,
      long visionCacheEntries,
      long prefixCacheBytes,
      long engineQueue,
      long lag,
      long uploads,
      long questions,
      long captions,
      long answers,
      long deadLetters,
      double load1,
      long blockCacheBytes,
      long memtableBytes) {

    long totalKeys() {
      return storeKeys.values().stream().mapToLong(Long::longValue).sum();
    }

    long totalLiveKeys() {
      return liveKeys.values().stream().mapToLong(Long::longValue).sum();
    }

    String describe() {
      return String.format(
          Locale.ROOT,
          "min %.1f heap %.1f MiB rss %.1f MiB fds %d threads %d state %.1f MiB keys %d live %s"
              + " vision %d"
              + " prefix %.1f MiB lag %d answers %d/%d captions %d/%d dlq %d load %.2f"
              + " rocksdb cache %.1f MiB memtables %.1f MiB",
          minute,
          heapAfterGc / 1048576.0,
          rss / 1048576.0,
          fds,
          threads,
          stateDirBytes / 1048576.0,
          totalKeys(),
          liveKeys.values(),
          visionCacheEntries,
          prefixCacheBytes / 1048576.0,
          lag,
          answers,
          questions,
          captions,
          uploads,
          deadLetters,
          load1,
          blockCacheBytes / 1048576.0,
          memtableBytes / 1048576.0);
    }
  }

  private static Sample sample(
      long pid,
      int httpPort,
      Path stateDir,
      Admin admin,
      String appId,
      Counts counts,
      ChangelogKeys changelogs,
      long t0)
      throws Exception {
    double minute = (System.nanoTime() - t0) / 60e9;
    jcmd(pid, "GC.run");
    long heap = -1;
    Matcher m = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
    if (m.find()) {
      heap = Long.parseLong(m.group(1)) * 1024;
    }
    Map<String, String> status = procStatus(pid);
    long rss = kib(status.get("VmRSS"));
    long threads = status.containsKey("Threads") ? Long.parseLong(status.get("Threads")) : -1;
    long fds;
    try (Stream<Path> s = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      fds = s.count();
    }
    Map<String, Double> metrics = new HashMap<>();
    Map<String, Long> keys = new LinkedHashMap<>();
    // Every store reports the one shared cache (BoundedRocksDbMemory), memtables included: the
    // largest report is its usage. Memtables are per store instance: their sum.
    double blockCache = -1;
    double memtables = -1;
    STORES.forEach(store -> keys.put(store, 0L));
    for (String line : scrape(httpPort).split("\n")) {
      Matcher mm = METRIC.matcher(line);
      if (line.startsWith("#") || !mm.find()) {
        continue;
      }
      double value;
      try {
        value = Double.parseDouble(mm.group(4));
      } catch (NumberFormatException e) {
        continue;
      }
      String name = mm.group(1);
      if (name.endsWith("block_cache_usage") && !Double.isNaN(value)) {
        blockCache = Math.max(blockCache, value);
      } else if (name.endsWith("cur_size_all_mem_tables") && !Double.isNaN(value)) {
        memtables = Math.max(0, memtables) + value;
      } else if (name.endsWith("estimate_num_keys") && mm.group(3) != null) {
        Matcher lm = LABEL.matcher(mm.group(3));
        while (lm.find()) {
          if (lm.group(1).endsWith("state_id") && !Double.isNaN(value)) {
            keys.merge(lm.group(2), (long) value, Long::sum);
          }
        }
      } else if (mm.group(3) == null) {
        metrics.put(name, value);
      }
    }
    return new Sample(
        minute,
        heap,
        rss,
        fds,
        threads,
        cpuSeconds(pid),
        directoryBytes(stateDir),
        keys,
        changelogs.liveKeys(),
        (long) (double) metrics.getOrDefault("shoplens_engine_vision_cache_entries", -1.0),
        (long) (double) metrics.getOrDefault("shoplens_engine_prefix_cache_bytes", -1.0),
        (long) (double) metrics.getOrDefault("shoplens_engine_queue_depth", -1.0),
        lag(admin, appId),
        counts.uploads.get(),
        counts.questions.get(),
        counts.captioned(),
        counts.answered(),
        counts.deadLetters.get(),
        load1(),
        blockCache < 0 ? -1 : (long) blockCache,
        memtables < 0 ? -1 : (long) memtables);
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid),
                command)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  private static Map<String, String> procStatus(long pid) throws IOException {
    Map<String, String> out = new HashMap<>();
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    return out;
  }

  private static long kib(String value) {
    return value == null ? -1 : Long.parseLong(value.split("\\s+")[0]) * 1024;
  }

  /** User plus system CPU seconds of the process ({@code /proc/PID/stat}, 100 ticks a second). */
  private static double cpuSeconds(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  private static long directoryBytes(Path dir) throws IOException {
    long total = 0;
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        try {
          if (Files.isRegularFile(p)) {
            total += Files.size(p);
          }
        } catch (NoSuchFileException e) {
          // RocksDB removed it meanwhile (compaction)
        }
      }
    } catch (UncheckedIOException e) {
      if (!(e.getCause() instanceof NoSuchFileException)) {
        throw e;
      }
    }
    return total;
  }

  private static String scrape(int port) {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** Records of the input topics that the application has not committed yet. */
  private static long lag(Admin admin, String appId) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed =
        admin
            .listConsumerGroupOffsets(appId)
            .partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (String topic : List.of(Topics.IMAGE_UPLOADS, Topics.QUESTIONS)) {
      admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
    }
    long lag = 0;
    for (var e : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      lag += e.getValue().offset() - (c == null ? 0 : c.offset());
    }
    return lag;
  }

  private static double load1() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  // ---- outputs

  /** What was sent and what a read_committed consumer has seen. */
  static final class Counts {
    final AtomicLong uploads = new AtomicLong();
    final AtomicLong questions = new AtomicLong();
    final AtomicLong sendErrors = new AtomicLong();
    final AtomicLong answerRecords = new AtomicLong();
    final AtomicLong captionRecords = new AtomicLong();
    final AtomicLong deadLetters = new AtomicLong();
    private final Set<String> answered = new HashSet<>();
    private final Set<String> captioned = new HashSet<>();
    final List<String> deadLetterReasons = new ArrayList<>();

    synchronized void answer(String questionId) {
      answerRecords.incrementAndGet();
      answered.add(questionId);
    }

    synchronized void caption(String uploadId) {
      captionRecords.incrementAndGet();
      captioned.add(uploadId);
    }

    synchronized void deadLetter(String reason) {
      deadLetters.incrementAndGet();
      if (deadLetterReasons.size() < 5) {
        deadLetterReasons.add(reason);
      }
    }

    synchronized long answered() {
      return answered.size();
    }

    synchronized long captioned() {
      return captioned.size();
    }
  }

  private static final class Receiver implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final Counts counts;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    Receiver(EmbeddedKafkaCluster kafka, Topics topics, Counts counts) {
      this.topics = topics;
      this.counts = counts;
      this.consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrapServers(),
                  ConsumerConfig.GROUP_ID_CONFIG,
                  "soak-verifier-" + UUID.randomUUID(),
                  ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                  "earliest",
                  ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                  "read_committed"),
              new ByteArrayDeserializer(),
              new ByteArrayDeserializer());
      this.thread = new Thread(this::loop, "soak-receiver");
      this.thread.setDaemon(true);
    }

    void start() {
      consumer.subscribe(List.of(Topics.CAPTIONS, Topics.ANSWERS, Topics.DEAD_LETTERS));
      thread.start();
    }

    private void loop() {
      while (running.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          switch (r.topic()) {
            case Topics.ANSWERS ->
                counts.answer(read(topics.answers(), r, QuestionAnswered.class).getQuestionId());
            case Topics.CAPTIONS ->
                counts.caption(read(topics.captions(), r, ImageCaptioned.class).getUploadId());
            default -> {
              DeadLetter d = read(topics.deadLetters(), r, DeadLetter.class);
              counts.deadLetter(d.getStage() + ": " + d.getErrorMessage());
            }
          }
        }
      }
    }

    private static <V> V read(
        Topic<String, V> topic, ConsumerRecord<byte[], byte[]> r, Class<V> c) {
      return c.cast(topic.valueSerde().deserializer().deserialize(r.topic(), r.value()));
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join(5_000);
      consumer.close();
    }
  }

  /**
   * Live keys per store, exactly: a read_committed consumer of the application's changelog topics
   * that adds a key on a value and removes it on a tombstone. Unlike RocksDB's estimate, this
   * counts what a restore would bring back.
   */
  private static final class ChangelogKeys implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String prefix;
    private final Map<String, Set<ByteBuffer>> keys = new HashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    ChangelogKeys(EmbeddedKafkaCluster kafka, String appId) {
      this.prefix = appId + "-";
      this.consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  kafka.bootstrapServers(),
                  ConsumerConfig.GROUP_ID_CONFIG,
                  "soak-changelogs-" + UUID.randomUUID(),
                  ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                  "earliest",
                  ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                  "read_committed",
                  ConsumerConfig.METADATA_MAX_AGE_CONFIG,
                  5_000),
              new ByteArrayDeserializer(),
              new ByteArrayDeserializer());
      this.thread = new Thread(this::loop, "soak-changelogs");
      this.thread.setDaemon(true);
    }

    void start() {
      consumer.subscribe(Pattern.compile(Pattern.quote(prefix) + ".*-changelog"));
      thread.start();
    }

    private void loop() {
      while (running.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          String store =
              r.topic().substring(prefix.length(), r.topic().length() - "-changelog".length());
          synchronized (this) {
            Set<ByteBuffer> live = keys.computeIfAbsent(store, k -> new HashSet<>());
            if (r.value() == null) {
              live.remove(ByteBuffer.wrap(r.key()));
            } else {
              live.add(ByteBuffer.wrap(r.key()));
            }
          }
        }
      }
    }

    synchronized Map<String, Long> liveKeys() {
      Map<String, Long> out = new LinkedHashMap<>();
      STORES.forEach(s -> out.put(s, (long) keys.getOrDefault(s, Set.of()).size()));
      return out;
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join(5_000);
      consumer.close();
    }
  }

  private static void writeCsv(Path file, List<Sample> samples) throws IOException {
    try (Writer w = Files.newBufferedWriter(file)) {
      w.write(
          "minute,heap_after_gc_bytes,rss_bytes,open_fds,threads,cpu_seconds,state_dir_bytes,"
              + String.join(",", STORES.stream().map(s -> "estimated_keys_" + s).toList())
              + ","
              + String.join(",", STORES.stream().map(s -> "live_keys_" + s).toList())
              + ",vision_cache_entries,prefix_cache_bytes,engine_queue,consumer_lag,uploads_sent,"
              + "questions_sent,uploads_captioned,questions_answered,dead_letters,load1,"
              + "rocksdb_block_cache_usage_bytes,rocksdb_memtable_bytes\n");
      for (Sample s : samples) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%.2f", s.minute()));
        for (long v : new long[] {s.heapAfterGc(), s.rss(), s.fds(), s.threads()}) {
          b.append(',').append(v);
        }
        b.append(String.format(Locale.ROOT, ",%.2f", s.cpuSeconds()));
        b.append(',').append(s.stateDirBytes());
        STORES.forEach(store -> b.append(',').append(s.storeKeys().get(store)));
        STORES.forEach(store -> b.append(',').append(s.liveKeys().getOrDefault(store, 0L)));
        for (long v :
            new long[] {
              s.visionCacheEntries(),
              s.prefixCacheBytes(),
              s.engineQueue(),
              s.lag(),
              s.uploads(),
              s.questions(),
              s.captions(),
              s.answers(),
              s.deadLetters()
            }) {
          b.append(',').append(v);
        }
        b.append(String.format(Locale.ROOT, ",%.2f", s.load1()));
        b.append(',').append(s.blockCacheBytes()).append(',').append(s.memtableBytes());
        w.write(b.append('\n').toString());
      }
    }
  }

  /**
   * One sampled series and how much growth it may show: a linear slope over the second half,
   * projected over an hour, of at most {@code max(floor, share x second-half mean)}.
   */
  record Series(
      String name,
      String unit,
      double scale,
      double floor,
      double share,
      ToDoubleFunction<Sample> value,
      boolean judged) {
    Series(
        String name,
        String unit,
        double scale,
        double floor,
        double share,
        ToDoubleFunction<Sample> value) {
      this(name, unit, scale, floor, share, value, true);
    }
  }

  static List<Series> series(Args a) {
    double mib = 1048576.0;
    double perMinute = a.uploadsPerMinute * (1.0 + a.questions);
    List<Series> out = new ArrayList<>();
    out.add(new Series("heap after full GC", "MiB", mib, 16 * mib, 0.10, Sample::heapAfterGc));
    out.add(new Series("RSS", "MiB", mib, 32 * mib, 0.10, Sample::rss));
    // The RocksDB budget (--rocksdb-memory-mib) is shown beside the series that it bounds: the
    // block cache with the memtables charged to it, and the memtables alone (half the budget).
    out.add(
        new Series(
            "RocksDB block cache incl. memtables, budget " + a.rocksDbMemoryMib + " MiB",
            "MiB",
            mib,
            0.10 * (a.rocksDbMemoryMib << 20),
            0.0,
            Sample::blockCacheBytes));
    out.add(
        new Series(
            "RocksDB memtables, budget " + a.rocksDbMemoryMib / 2.0 + " MiB",
            "MiB",
            mib,
            0.10 * (a.rocksDbMemoryMib << 20),
            0.0,
            Sample::memtableBytes));
    out.add(new Series("open file descriptors", "", 1, 10, 0.05, Sample::fds));
    out.add(new Series("threads", "", 1, 5, 0.05, Sample::threads));
    out.add(new Series("state directory", "MiB", mib, 16 * mib, 0.25, Sample::stateDirBytes));
    out.add(new Series("live keys, all stores", "", 1, 100, 0.10, Sample::totalLiveKeys));
    for (String store : STORES) {
      out.add(
          new Series(
              "live keys: " + store, "", 1, 100, 0.10, s -> s.liveKeys().getOrDefault(store, 0L)));
    }
    // RocksDB's estimate-num-keys is entries minus twice the deletes not yet compacted: a key
    // written twice and deleted once counts 1 until compaction. Shown, not judged.
    out.add(
        new Series(
            "RocksDB estimate-num-keys, all stores", "", 1, 100, 0.10, Sample::totalKeys, false));
    out.add(new Series("vision cache entries", "", 1, 1, 0.0, Sample::visionCacheEntries));
    out.add(new Series("prefix cache", "MiB", mib, 1 * mib, 0.10, Sample::prefixCacheBytes));
    out.add(new Series("engine queue", "", 1, 10, 0.0, Sample::engineQueue));
    out.add(new Series("consumer lag (records)", "", 1, perMinute, 0.0, Sample::lag));
    return out;
  }

  /** Least-squares slope of y over x. */
  static double slope(double[] x, double[] y) {
    int n = x.length;
    if (n < 2) {
      return Double.NaN;
    }
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += x[i] / n;
      my += y[i] / n;
    }
    double sxy = 0;
    double sxx = 0;
    for (int i = 0; i < n; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxx == 0 ? Double.NaN : sxy / sxx;
  }

  private static Report report(
      Args a,
      List<Sample> samples,
      Counts counts,
      Instant started,
      String loadBefore,
      String loadAfter,
      int exitCode) {
    StringBuilder r = new StringBuilder();
    Sample last = samples.get(samples.size() - 1);
    double cpuPercent =
        100
            * (last.cpuSeconds() - samples.get(0).cpuSeconds())
            / Math.max(1e-9, (last.minute() - samples.get(0).minute()) * 60);
    double meanLoad = samples.stream().mapToDouble(Sample::load1).average().orElse(-1);
    r.append(
        String.format(
            Locale.ROOT,
            "Soak started %s: %d min, %d uploads/min, each with 1 caption + attribute prompts and %d"
                + " questions (%d in a conversation), %d distinct images, %d partitions,"
                + " exactly_once_v2, upload retention and conversation TTL %d min, RocksDB memory"
                + " budget %d MiB, ShopLens child -Xmx%s, model %s. Load average before %s, after %s, mean 1-minute over the"
                + " samples %.2f; ShopLens used %.0f%% of one core after its start-up.%n%n",
            started,
            a.minutes,
            a.uploadsPerMinute,
            a.questions,
            Math.max(0, a.questions - 1),
            a.images,
            a.partitions,
            a.retention.toMinutes(),
            a.rocksDbMemoryMib,
            a.childHeap,
            a.bundle,
            loadBefore,
            loadAfter,
            meanLoad,
            cpuPercent));
    long lost = counts.questions.get() - counts.answered();
    long dupAnswers = counts.answerRecords.get() - counts.answered();
    long dupCaptions = counts.captionRecords.get() - counts.captioned();
    r.append(
        String.format(
            Locale.ROOT,
            "Sent %d uploads and %d questions (%d send errors); read_committed: %d captioned (%d"
                + " duplicate records), %d answered (%d duplicate records, %d unanswered after the"
                + " drain), %d dead letters%s. ShopLens exit code after SIGTERM: %d (143: ended by the signal after its shutdown hook ran).%n%n",
            counts.uploads.get(),
            counts.questions.get(),
            counts.sendErrors.get(),
            counts.captioned(),
            dupCaptions,
            counts.answered(),
            dupAnswers,
            lost,
            counts.deadLetters.get(),
            counts.deadLetterReasons.isEmpty() ? "" : " " + counts.deadLetterReasons,
            exitCode));
    int half = samples.size() / 2;
    List<Sample> second = samples.subList(half, samples.size());
    r.append(
        String.format(
            Locale.ROOT,
            "Flat: the least-squares slope over the second half (%d samples, minute %.0f to %.0f),"
                + " projected over one hour, is at most the bound.%n%n",
            second.size(),
            second.get(0).minute(),
            last.minute()));
    r.append("| series | first | last | max | growth/hour (2nd half) | bound | flat |\n");
    r.append("| --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    boolean allFlat = true;
    boolean judged = true;
    for (Series s : series(a)) {
      double[] x = second.stream().mapToDouble(Sample::minute).toArray();
      double[] y = second.stream().mapToDouble(s.value()).toArray();
      double mean = Arrays.stream(y).average().orElse(0);
      double perHour = slope(x, y) * 60;
      double bound = Math.max(s.floor(), s.share() * mean);
      double max = samples.stream().mapToDouble(s.value()).max().orElse(Double.NaN);
      String verdict;
      // Judged on the second half only: a metric that appears once its store opens (the RocksDB
      // ones) is missing from the first sample, which the slope does not use anyway.
      if (Arrays.stream(y).anyMatch(v -> v < 0)) {
        verdict = "not measured";
      } else if (!s.judged()) {
        verdict = "(estimate, not judged)";
      } else if (second.size() < 3) {
        verdict = "too few samples";
        judged = false;
      } else if (perHour <= bound) {
        verdict = "yes";
      } else {
        verdict = "**no**";
        allFlat = false;
      }
      String unit = s.unit().isEmpty() ? "" : " " + s.unit();
      r.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s |%n",
              s.name() + (unit.isEmpty() ? "" : " (" + s.unit() + ")"),
              fmt(samples.get(0), s),
              fmt(last, s),
              fmt(max / s.scale()),
              fmt(perHour / s.scale()),
              fmt(bound / s.scale()),
              verdict));
    }
    boolean outputsOnce =
        lost == 0
            && dupAnswers == 0
            && dupCaptions == 0
            && counts.captioned() == counts.uploads.get();
    boolean passed = allFlat && outputsOnce;
    String verdict;
    if (!passed) {
      verdict = "see the rows marked no and the counts above";
    } else if (!judged) {
      verdict =
          "every question answered and every upload captioned once; too few samples to judge"
              + " flatness (a run of at least 6 minutes has 3 in its second half)";
    } else {
      verdict = "every series flat, every question answered and every upload captioned once";
    }
    r.append(String.format(Locale.ROOT, "%nVerdict: %s.%n", verdict));
    return new Report(r.toString(), passed);
  }

  private static String fmt(Sample s, Series series) {
    double v = series.value().applyAsDouble(s);
    return v < 0 ? "n/a" : fmt(v / series.scale());
  }

  private static String fmt(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    return Math.abs(v) >= 100 || v == Math.rint(v)
        ? String.format(Locale.ROOT, "%.0f", v)
        : String.format(Locale.ROOT, "%.1f", v);
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log("could not delete %s: %s", dir, e);
    }
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "[soak %s] " + format + "%n", withTime(args));
  }

  private static Object[] withTime(Object... args) {
    Object[] out = new Object[args.length + 1];
    out[0] = LocalTime.now().withNano(0);
    System.arraycopy(args, 0, out, 1, args.length);
    return out;
  }

  static final class Args {
    // Run from the repository root, as scripts/soak does.
    Path bundle = Path.of("processor/src/test/resources/models/tiny-blip2-opt");
    Path out = Path.of("build-out/soak");
    int minutes = 60;
    int uploadsPerMinute = 60;
    int questions = 3;
    int images = 1000;
    int partitions = 4;
    int sampleSeconds = 60;
    Duration retention = Duration.ofMinutes(10);
    String childHeap = "512m";
    // Smaller than ShopLens's 128 MiB default for the reason retention is shorter: so that the
    // shared cache and the memtables reach their budget, and flushes and compactions come round,
    // within the run; a bounded series that is still filling cannot show that it is bounded.
    long rocksDbMemoryMib = 16;

    static Args parse(String[] argv) {
      Args a = new Args();
      for (int i = 0; i < argv.length; i++) {
        String name = argv[i];
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException("missing value after " + name);
        }
        String v = argv[++i];
        switch (name) {
          case "--bundle" -> a.bundle = Path.of(v);
          case "--out" -> a.out = Path.of(v);
          case "--minutes" -> a.minutes = positive(name, v);
          case "--uploads-per-minute" -> a.uploadsPerMinute = positive(name, v);
          case "--questions" -> a.questions = positive(name, v);
          case "--images" -> a.images = positive(name, v);
          case "--partitions" -> a.partitions = positive(name, v);
          case "--sample-seconds" -> a.sampleSeconds = positive(name, v);
          case "--retention-minutes" -> a.retention = Duration.ofMinutes(positive(name, v));
          case "--child-heap" -> a.childHeap = v;
          case "--rocksdb-memory-mib" -> a.rocksDbMemoryMib = positive(name, v);
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + name
                      + "; expected --bundle, --out, --minutes, --uploads-per-minute,"
                      + " --questions, --images, --partitions, --sample-seconds,"
                      + " --retention-minutes, --child-heap, --rocksdb-memory-mib");
        }
      }
      return a;
    }

    private static int positive(String name, String v) {
      int n = Integer.parseInt(v);
      if (n <= 0) {
        throw new IllegalArgumentException(name + " must be positive, got " + v);
      }
      return n;
    }
  }
}
