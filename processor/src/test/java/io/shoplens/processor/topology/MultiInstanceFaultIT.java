package io.shoplens.processor.topology;

import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.registry.MockSchemaRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under the faults users meet: three ShopLens instances ({@code shoplens run}, each in
 * its own JVM, one application id, exactly-once v2, the tiny model) on a three-broker KRaft cluster
 * (replication factor 3, {@code min.insync.replicas} 2, internal topics too), a Schema Registry
 * over HTTP with basic authentication, a storefront producer sending uploads and questions at a
 * steady rate, and an independent {@code read_committed} consumer counting the outputs. Meanwhile
 * faults drawn from a seed ({@link FaultPlan}): SIGKILL of an instance, a graceful restart, a
 * broker shut down and started again, a registry outage during which an instance restarts with
 * nothing cached, and a fourth instance added and removed.
 *
 * <p>Then: every question answered exactly once, every upload captioned exactly once, no dead
 * letter (all input is good), every output equal to a fault-free reference computed in this JVM
 * with the same engine and settings (greedy decoding is deterministic), the time to recover after
 * each fault, and none of the configured credentials in any instance's log.
 *
 * <p>Sized for CI by default (600 questions, 6 faults); {@code scripts/fault-test} runs it larger
 * through system properties: {@code shoplens.faults.questions}, {@code shoplens.faults.count},
 * {@code shoplens.faults.seed}, {@code shoplens.faults.rate} (questions per second sent), {@code
 * shoplens.faults.deadline.minutes}, {@code shoplens.faults.report} (Markdown report path), {@code
 * shoplens.faults.logs} (instance logs directory).
 */
class MultiInstanceFaultIT {
  private static final int PARTITIONS = 6;
  private static final int INSTANCES = 3;
  private static final int BROKERS = 3;
  private static final int QUESTIONS_PER_UPLOAD = 10;
  private static final String[] IMAGES = {
    "tiny.png", "photo.jpg", "wide.png", "alpha.png", "gray.png", "palette.png"
  };
  private static final String[] TEXTS = {
    "what is it?",
    "what colour is it?",
    "is it for men?",
    "what is the material?",
    "is it striped?",
    "how would you style it?",
    "does it come in blue?",
    "is it waterproof?",
    "what size is it?",
    "who makes it?",
    "is it on sale?",
    "what goes with it?"
  };
  private static final Duration RECOVERY_LIMIT = Duration.ofSeconds(180);

  private final int questionCount = Integer.getInteger("shoplens.faults.questions", 600);
  private final int faultCount = Integer.getInteger("shoplens.faults.count", 6);
  private final long seed = Long.getLong("shoplens.faults.seed", 19L);
  private final double rate = Double.parseDouble(System.getProperty("shoplens.faults.rate", "8"));
  private final Duration deadline =
      Duration.ofMinutes(Long.getLong("shoplens.faults.deadline.minutes", 8L));

  @TempDir Path work;

  private final List<Instance> instances = new ArrayList<>();
  private final List<AutoCloseable> closeLast = new ArrayList<>();
  private final List<String> unplannedExits = new CopyOnWriteArrayList<>();
  // Registry outages whose restarted instance had nothing left to read (so never asked the
  // registry): late in a run on a busy machine the storefront may have sent everything already.
  private int outagesNotFelt;
  private long t0;
  private volatile String currentFault = "none";

  @AfterEach
  void stopEverything() throws Exception {
    for (Instance i : instances) {
      i.kill();
    }
    for (int i = closeLast.size() - 1; i >= 0; i--) {
      closeLast.get(i).close();
    }
  }

  @Test
  void shouldAnswerEveryQuestionOnceAsTheReferenceDoesThroughInstanceBrokerAndRegistryFaults()
      throws Exception {
    t0 = System.nanoTime();
    Random random = new Random(seed);
    String scope = "fault-it-" + UUID.randomUUID();
    closeLast.add(() -> MockSchemaRegistry.dropScope(scope));
    assertThat(FixedSchemaIds.register(scope)).containsExactly(1, 2, 3, 4, 5, 6, 7);
    Topics topics = Topics.create(FixedSchemaIds.serdeConfig(scope));
    // Credentials the instances get and must never print: the registry's basic-auth password
    // (checked by the registry, so it is really used) and a SASL password (unused on PLAINTEXT).
    String password = "pw-" + Long.toHexString(random.nextLong()) + "-registry";
    String userInfo = "shoplens-fault:" + password;
    String saslPassword = "sasl-" + Long.toHexString(random.nextLong()) + "-secret";
    List<FaultPlan.Fault> plan = FaultPlan.draw(seed, faultCount, INSTANCES, BROKERS);
    log(
        "plan (seed %d): %d questions, %d faults, %.1f questions/s sent%n%s",
        seed, questionCount, faultCount, rate, FaultPlan.describe(plan));

    // Given the input and what a fault-free run answers for it
    List<ImageUploaded> uploads = new ArrayList<>();
    Map<String, String> imageOf = new LinkedHashMap<>();
    List<QuestionAsked> questions = new ArrayList<>();
    int uploadCount = Math.max(1, questionCount / QUESTIONS_PER_UPLOAD);
    for (int u = 0; u < uploadCount; u++) {
      String uploadId = "up-" + u;
      String image = IMAGES[u % IMAGES.length];
      imageOf.put(uploadId, image);
      uploads.add(TestEvents.upload(uploadId, TestEvents.image(image)));
      for (int q = 0; q < QUESTIONS_PER_UPLOAD && questions.size() < questionCount; q++) {
        questions.add(
            TestEvents.question(uploadId + "-q" + q, uploadId, TEXTS[(u * 5 + q) % TEXTS.length]));
      }
    }
    Properties settings = instanceSettings("unused:9092", "mock://" + scope);
    Reference reference = Reference.compute(settings, work.resolve("reference"));
    log(
        "reference computed: %d captions, %d answers",
        reference.captions.size(), reference.answers.size());

    try (EmbeddedKafkaCluster kafka =
            new EmbeddedKafkaCluster(
                    EmbeddedKafkaCluster.Config.defaults()
                        .withBrokers(BROKERS)
                        .withDefaultPartitions(PARTITIONS)
                        .withOperationTimeout(Duration.ofSeconds(120)))
                .start();
        RegistryHttpServer registry =
            new RegistryHttpServer(MockSchemaRegistry.getClientForScope(scope), userInfo)) {
      log("cluster of %d brokers %s, registry %s", BROKERS, kafka.brokerIds(), registry.url());
      for (String topic :
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.DEAD_LETTERS)) {
        kafka.createTopics(topic, PARTITIONS, Map.of());
      }
      String logsDir = System.getProperty("shoplens.faults.logs");
      Path logs =
          Files.createDirectories(logsDir == null ? work.resolve("logs") : Path.of(logsDir));
      try (var files = Files.list(logs)) {
        for (Path old : files.filter(p -> p.toString().endsWith(".log")).toList()) {
          Files.delete(old);
        }
      }
      Properties base = instanceSettings(kafka.bootstrapServers(), registry.url());
      base.put("basic.auth.credentials.source", "USER_INFO");
      Map<String, String> env =
          Map.of(
              "SHOPLENS_BASIC_AUTH_USER_INFO",
              userInfo,
              "KAFKA_SASL_JAAS_CONFIG",
              "org.apache.kafka.common.security.plain.PlainLoginModule required"
                  + " username=\"shoplens\" password=\""
                  + saslPassword
                  + "\";");
      String appId = "shoplens-fault-it-" + UUID.randomUUID();
      for (int slot = 0; slot <= INSTANCES; slot++) {
        instances.add(new Instance(slot, appId, base, env, work, logs));
      }
      for (int slot = 0; slot < INSTANCES; slot++) {
        instances.get(slot).start();
      }

      Verifier verifier = new Verifier(kafka, topics);
      closeLast.add(verifier);
      Storefront storefront = new Storefront(kafka, topics, uploads, questions, rate);
      closeLast.add(storefront);

      // When faults strike while the work goes on: each fires once the storefront has sent its
      // drawn share of the uploads, so that it meets work in flight; the storefront goes on
      // sending meanwhile, up to the next fault's share, so that no fault comes after the work.
      List<FaultRecord> faults = new ArrayList<>();
      // The first fault meets a running group, not one still starting.
      storefront.allow(plan.isEmpty() ? -1 : fireIndex(plan.get(0), uploads.size()));
      awaitSupervised(deadline, () -> verifier.outputs() > 0 || storefront.failed() != null);
      log("first outputs after %.1f s", seconds(System.nanoTime()));
      for (int i = 0; i < plan.size(); i++) {
        int fireAt = fireIndex(plan.get(i), uploads.size());
        storefront.allow(fireAt);
        awaitSupervised(deadline, () -> storefront.sent() >= fireAt || storefront.failed() != null);
        storefront.allow(i + 1 < plan.size() ? fireIndex(plan.get(i + 1), uploads.size()) : -1);
        // The storefront may have waited at the gate while the last fault went on, and the
        // instances caught up: the fault waits for fresh work (the storefront sends on).
        awaitSupervised(
            Duration.ofSeconds(60),
            () -> !verifier.pendingPartitions(storefront).isEmpty() || storefront.isDone());
        faults.add(inject(plan.get(i), kafka, registry, verifier, storefront));
      }
      storefront.allow(-1);
      try {
        awaitSupervised(
            deadline,
            () ->
                verifier.answers.size() == questions.size()
                        && verifier.captions.size() == uploads.size()
                    || storefront.failed() != null);
      } catch (ConditionTimeoutException e) {
        // On to the figures and the report: they say what was lost, which a time-out does not.
        log("outputs incomplete after %s", deadline);
      }
      // Nothing more arrives: no duplicate is merely late.
      await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(6)).until(() -> true);
      double elapsed = (System.nanoTime() - t0) / 1e9;
      for (Instance i : instances) {
        i.stop();
      }
      verifier.close();

      // Then
      Figures figures = Figures.of(verifier, questions, uploads, imageOf, reference, instances);
      List<String> leaks =
          scanForSecrets(
              logs,
              List.of(
                  password,
                  userInfo,
                  saslPassword,
                  Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8))));
      String report = report(plan, faults, figures, elapsed, registry, leaks, kafka.brokerIds());
      System.out.println(report);
      String reportPath = System.getProperty("shoplens.faults.report");
      if (reportPath != null) {
        Files.createDirectories(Path.of(reportPath).toAbsolutePath().getParent());
        Files.writeString(Path.of(reportPath), report, StandardCharsets.UTF_8);
      }

      assertThat(storefront.failed()).as("storefront send failures").isNull();
      assertThat(figures.missingAnswers).as("questions never answered").isEmpty();
      assertThat(figures.duplicateAnswers).as("answers committed more than once").isZero();
      assertThat(figures.missingCaptions).as("uploads never captioned").isEmpty();
      assertThat(figures.duplicateCaptions).as("captions committed more than once").isZero();
      assertThat(verifier.deadLetters).as("dead letters for good input").isEmpty();
      assertThat(figures.mismatches).as("outputs unlike the fault-free reference").isEmpty();
      assertThat(faults).allSatisfy(f -> assertThat(f.recoverySeconds).as(f.toString()).isNotNaN());
      assertThat(leaks).as("configured credentials in instance logs").isEmpty();
      assertThat(registry.unauthorized()).as("registry requests without credentials").isZero();
      assertThat(registry.served()).as("registry requests served").isPositive();
      assertThat(registry.refused())
          .as("registry requests refused during outages (the outage was felt)")
          .isPositive();
      // A registry outage replaces the stream thread inside the process (StreamsRunner): no
      // fault of the plan, the registry's included, may end an instance by itself.
      assertThat(unplannedExits).as("instances that exited by themselves").isEmpty();
    }
  }

  /** How many uploads the storefront has sent when {@code fault} fires (at least one). */
  private static int fireIndex(FaultPlan.Fault fault, int uploads) {
    return Math.max(1, (int) Math.ceil(fault.atShare() * uploads));
  }

  /** The settings every instance shares, as {@code shoplens run} reads them. */
  private static Properties instanceSettings(String bootstrap, String registryUrl) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("schema.registry.url", registryUrl);
    p.put("shoplens.model.path", TinyBundle.dir().toAbsolutePath().toString());
    p.put("shoplens.inference.intra.op.threads", "1");
    p.put("shoplens.inference.inter.op.threads", "1");
    p.put("shoplens.inference.batch.max.size", "8");
    p.put("shoplens.inference.batch.max.wait.ms", "5");
    p.put("shoplens.caption.max.new.tokens", "6");
    p.put(
        "shoplens.attribute.prompts",
        "category=What type of product is this?,colour=What colour is it?");
    p.put("shoplens.attribute.max.new.tokens", "3");
    p.put("shoplens.answer.max.new.tokens", "5");
    p.put("shoplens.inflight.max", "16");
    p.put("shoplens.http.port", "-1");
    p.put("shoplens.shutdown.timeout.ms", "20000");
    // Kafka Streams, passed through: quick commits so that the verifier sees progress soon, the
    // cluster's replication for internal topics too, and a failed member noticed within 10 s.
    p.put("commit.interval.ms", "200");
    p.put("replication.factor", "3");
    p.put("session.timeout.ms", "10000");
    return p;
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  /** What happened to one planned fault. */
  private record FaultRecord(
      FaultPlan.Fault fault,
      String target,
      double atSeconds,
      double heldSeconds,
      double recoverySeconds,
      int pendingPartitions) {}

  private FaultRecord inject(
      FaultPlan.Fault fault,
      EmbeddedKafkaCluster kafka,
      RegistryHttpServer registry,
      Verifier verifier,
      Storefront storefront)
      throws Exception {
    long start = System.nanoTime();
    currentFault = fault.kind().label;
    Set<Integer> pending = verifier.pendingPartitions(storefront);
    String target;
    // The instance that restarts: recovered only once it runs again.
    Instance restarted = null;
    log(
        "fault %s (target %d) at %.1f s; outputs %d; pending partitions %s",
        fault.kind().label, fault.target(), seconds(start), verifier.outputs(), pending);
    switch (fault.kind()) {
      case SIGKILL -> {
        Instance i = instances.get(fault.target());
        target = "instance " + i.slot;
        i.kill();
        i.start();
        restarted = i;
      }
      case GRACEFUL_RESTART -> {
        Instance i = instances.get(fault.target());
        target = "instance " + i.slot;
        i.stop();
        i.start();
        restarted = i;
      }
      case BROKER_BOUNCE -> {
        int id = kafka.brokerIds().get(fault.target());
        target = "broker " + id;
        kafka.stopBroker(id);
        hold(fault.holdSeconds());
        kafka.startBroker(id);
      }
      case REGISTRY_OUTAGE -> {
        Instance i = instances.get(fault.target());
        target = "registry; instance " + i.slot;
        int refusedBefore = registry.refused();
        registry.outage(true);
        i.kill();
        i.start();
        // Out until the restarted instance has met the outage (its start-up takes a while on a
        // busy machine), or is running with nothing left to read (the storefront at its gate and
        // every partition's outputs in: it will not ask the registry, and waiting would fail the
        // run for the test's timing, not ShopLens's), then for the drawn time more, long enough
        // for the client's retries (1 + 2 + 4 s by default) to run out.
        awaitSupervised(
            Duration.ofSeconds(120),
            () ->
                registry.refused() > refusedBefore
                    || (i.running()
                        && storefront.atGate()
                        && verifier.pendingPartitions(storefront).isEmpty()));
        if (registry.refused() == refusedBefore) {
          outagesNotFelt++;
          log("registry outage: instance %d restarted with nothing to read", i.slot);
        }
        hold(fault.holdSeconds() + 4);
        registry.outage(false);
        restarted = i;
      }
      case SCALE_OUT_IN -> {
        Instance extra = instances.get(INSTANCES);
        target = "instance " + extra.slot;
        extra.start();
        // It joins (a rebalance gives it tasks), stays the drawn time, and leaves (another).
        Elapsed held = new Elapsed(Duration.ofSeconds(fault.holdSeconds()));
        awaitSupervised(RECOVERY_LIMIT, () -> extra.running() && held.done());
        extra.stop();
      }
      default -> throw new IllegalStateException("unknown fault " + fault.kind());
    }
    long end = System.nanoTime();
    double recovery = Double.NaN;
    Instance back = restarted;
    try {
      awaitSupervised(
          RECOVERY_LIMIT,
          () ->
              (back == null || back.running())
                  && verifier.progressedSince(pending, end, storefront));
      recovery = (System.nanoTime() - start) / 1e9;
    } catch (ConditionTimeoutException e) {
      log("no progress on partitions %s within %s after the fault", pending, RECOVERY_LIMIT);
    }
    currentFault = "none";
    FaultRecord r =
        new FaultRecord(
            fault, target, seconds(start), (end - start) / 1e9, recovery, pending.size());
    log(
        "fault %s on %s: held %.1f s, outputs on every pending partition again after %.1f s",
        fault.kind().label, target, r.heldSeconds, recovery);
    return r;
  }

  private void hold(int seconds) {
    awaitSupervised(
        Duration.ofSeconds(seconds + 30), new Elapsed(Duration.ofSeconds(seconds))::done);
  }

  private record Elapsed(long until) {
    Elapsed(Duration d) {
      this(System.nanoTime() + d.toNanos());
    }

    boolean done() {
      return System.nanoTime() >= until;
    }
  }

  private void awaitSupervised(Duration atMost, java.util.concurrent.Callable<Boolean> done) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              supervise();
              return done.call();
            });
  }

  /**
   * As an orchestrator would: an instance that exited by itself is noted and started again (the
   * application exits on a stream-thread failure other than a registry outage, leaving restarts to
   * its supervisor); the test then fails on the note, since no planned fault should cause one.
   */
  private void supervise() throws IOException {
    for (Instance i : instances) {
      Integer code = i.exitedByItself();
      if (code != null) {
        String note =
            String.format(
                Locale.ROOT,
                "instance %d exited by itself with code %d at %.1f s during fault: %s",
                i.slot,
                code,
                seconds(System.nanoTime()),
                currentFault);
        unplannedExits.add(note);
        log("%s; restarting it. Log tail:%n%s", note, i.tail());
        i.start();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Instances

  /** One ShopLens instance slot: its own state directory and group member id, many starts. */
  private final class Instance {
    final int slot;
    final Path config;
    final Map<String, String> env;
    final Path logs;
    Process process;
    int starts;
    boolean shouldRun;

    Instance(int slot, String appId, Properties base, Map<String, String> env, Path work, Path logs)
        throws IOException {
      this.slot = slot;
      this.env = env;
      this.logs = logs;
      Properties p = new Properties();
      p.putAll(base);
      p.put("application.id", appId);
      p.put("state.dir", Files.createDirectories(work.resolve("state-" + slot)).toString());
      // Static membership: a restarted instance takes its place back at once.
      p.put("group.instance.id", "fault-it-" + slot);
      config = work.resolve("instance-" + slot + ".properties");
      try (var out = Files.newBufferedWriter(config)) {
        p.store(out, "MultiInstanceFaultIT instance " + slot);
      }
    }

    Path logFile() {
      return logs.resolve("instance-" + slot + "-run-" + starts + ".log");
    }

    void start() throws IOException {
      starts++;
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add("-Xmx320m");
      command.add("-XX:+UseSerialGC");
      command.add("-XX:TieredStopAtLevel=1");
      for (String prop : List.of("DJL_CACHE_DIR", "ENGINE_CACHE_DIR", "shoplens.test.bundle")) {
        String v = System.getProperty(prop);
        if (v != null) {
          command.add("-D" + prop + "=" + v);
        }
      }
      command.add("io.shoplens.processor.app.Main");
      command.add("run");
      command.add("--config");
      command.add(config.toString());
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      builder.redirectOutput(logFile().toFile());
      // The class path goes through CLASSPATH, not -cp: ONNX Runtime Java crashes when the
      // command line is longer than about 4 KB (see scripts/bench-engine).
      builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
      builder.environment().putAll(env);
      process = builder.start();
      shouldRun = true;
    }

    /** SIGKILL, and wait until it is gone. */
    void kill() throws InterruptedException {
      shouldRun = false;
      if (process != null && process.isAlive()) {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
      }
    }

    /** SIGTERM (an orderly close that leaves the group); SIGKILL if that takes over 60 s. */
    void stop() throws InterruptedException {
      shouldRun = false;
      if (process != null && process.isAlive()) {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
          log("instance %d did not stop within 60 s; killing it", slot);
          process.destroyForcibly();
          process.waitFor(30, TimeUnit.SECONDS);
        }
      }
    }

    /** Whether this start has reached Kafka Streams' RUNNING state (from its log). */
    boolean running() throws IOException {
      return process != null
          && process.isAlive()
          && Files.readString(logFile(), StandardCharsets.UTF_8).contains("-> RUNNING");
    }

    /** The exit code when it should run but has exited; null otherwise. */
    Integer exitedByItself() {
      if (shouldRun && process != null && !process.isAlive()) {
        shouldRun = false;
        return process.exitValue();
      }
      return null;
    }

    String tail() {
      try {
        List<String> lines = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
      } catch (IOException e) {
        return "(no log: " + e + ")";
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Storefront and verifier

  /** The partition of a key, as the producers' default partitioner picks it. */
  private static int partitionOf(String uploadId) {
    return Utils.toPositive(Utils.murmur2(uploadId.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
  }

  /** Sends each upload and then its questions, at a steady rate of questions per second. */
  private static final class Storefront implements AutoCloseable {
    final KafkaProducer<byte[], byte[]> producer;
    final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    final AtomicIntegerArray expected = new AtomicIntegerArray(PARTITIONS);
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger allowed = new AtomicInteger(0);
    final AtomicBoolean done = new AtomicBoolean();
    volatile Exception failure;

    Storefront(
        EmbeddedKafkaCluster kafka,
        Topics topics,
        List<ImageUploaded> uploads,
        List<QuestionAsked> questions,
        double rate) {
      producer = idempotentProducer(kafka);
      Map<String, List<QuestionAsked>> byUpload = new HashMap<>();
      questions.forEach(
          q -> byUpload.computeIfAbsent(q.getUploadId(), k -> new ArrayList<>()).add(q));
      long periodMicros = (long) (1e6 * QUESTIONS_PER_UPLOAD / rate);
      timer.scheduleAtFixedRate(
          () -> {
            int u = next.get();
            if (u >= uploads.size()) {
              done.set(true);
              return;
            }
            int gate = allowed.get();
            if (gate >= 0 && u >= gate) {
              return;
            }
            next.incrementAndGet();
            ImageUploaded upload = uploads.get(u);
            String id = upload.getUploadId();
            List<QuestionAsked> qs = byUpload.getOrDefault(id, List.of());
            expected.addAndGet(partitionOf(id), 1 + qs.size());
            send(topics.imageUploads(), id, upload);
            qs.forEach(q -> send(topics.questions(), id, q));
          },
          0,
          periodMicros,
          TimeUnit.MICROSECONDS);
    }

    private <V> void send(Topic<String, V> topic, String key, V value) {
      producer.send(
          new ProducerRecord<>(
              topic.name(),
              key.getBytes(StandardCharsets.UTF_8),
              topic.valueSerde().serializer().serialize(topic.name(), value)),
          (metadata, e) -> {
            if (e != null && failure == null) {
              failure = e;
            }
          });
    }

    Exception failed() {
      return failure;
    }

    boolean isDone() {
      return done.get();
    }

    /** Sends uploads (and their questions) up to index {@code uploads}; -1: all of them. */
    void allow(int uploads) {
      allowed.set(uploads);
    }

    /** Whether it has sent everything it is allowed to (for now, or at all). */
    boolean atGate() {
      int gate = allowed.get();
      return done.get() || (gate >= 0 && next.get() >= gate);
    }

    /** Uploads sent so far (each with its questions). */
    int sent() {
      return next.get();
    }

    @Override
    public void close() {
      timer.shutdownNow();
      producer.close(Duration.ofSeconds(10));
    }
  }

  /** A read_committed consumer on its own thread, counting outputs per id and per partition. */
  private static final class Verifier implements AutoCloseable {
    final Map<String, List<QuestionAnswered>> answers = new ConcurrentHashMap<>();
    final Map<String, List<ImageCaptioned>> captions = new ConcurrentHashMap<>();
    final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
    final AtomicInteger answerRecords = new AtomicInteger();
    final AtomicInteger captionRecords = new AtomicInteger();
    final AtomicIntegerArray received = new AtomicIntegerArray(PARTITIONS);
    final AtomicLongArray lastArrival = new AtomicLongArray(PARTITIONS);
    final AtomicBoolean running = new AtomicBoolean(true);
    final Thread thread;
    volatile Exception failure;

    Verifier(EmbeddedKafkaCluster kafka, Topics topics) {
      KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "fault-it-verifier-");
      consumer.subscribe(List.of(Topics.CAPTIONS, Topics.ANSWERS, Topics.DEAD_LETTERS));
      thread =
          new Thread(
              () -> {
                try (consumer) {
                  while (running.get()) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                      take(topics, r);
                    }
                  }
                } catch (RuntimeException e) {
                  failure = e;
                }
              },
              "fault-it-verifier");
      thread.start();
    }

    private void take(Topics topics, ConsumerRecord<byte[], byte[]> r) {
      String uploadId;
      switch (r.topic()) {
        case Topics.ANSWERS -> {
          QuestionAnswered a = read(topics.answers(), r);
          answers.computeIfAbsent(a.getQuestionId(), k -> new CopyOnWriteArrayList<>()).add(a);
          answerRecords.incrementAndGet();
          uploadId = a.getUploadId();
        }
        case Topics.CAPTIONS -> {
          ImageCaptioned c = read(topics.captions(), r);
          captions.computeIfAbsent(c.getUploadId(), k -> new CopyOnWriteArrayList<>()).add(c);
          captionRecords.incrementAndGet();
          uploadId = c.getUploadId();
        }
        default -> {
          deadLetters.add(read(topics.deadLetters(), r));
          return;
        }
      }
      int p = partitionOf(uploadId);
      received.incrementAndGet(p);
      lastArrival.set(p, System.nanoTime());
    }

    int outputs() {
      return answerRecords.get() + captionRecords.get();
    }

    /** Partitions with inputs sent whose outputs have not all arrived. */
    Set<Integer> pendingPartitions(Storefront storefront) {
      Set<Integer> pending = new java.util.TreeSet<>();
      for (int p = 0; p < PARTITIONS; p++) {
        if (received.get(p) < storefront.expected.get(p)) {
          pending.add(p);
        }
      }
      return pending;
    }

    /** Whether each of {@code partitions} has had an output after {@code since}, or is done. */
    boolean progressedSince(Set<Integer> partitions, long since, Storefront storefront) {
      if (failure != null) {
        throw new IllegalStateException("the verifier failed", failure);
      }
      for (int p : partitions) {
        boolean caughtUp = received.get(p) >= storefront.expected.get(p);
        if (!caughtUp && lastArrival.get(p) - since <= 0) {
          return false;
        }
      }
      return true;
    }

    @Override
    public void close() throws InterruptedException {
      running.set(false);
      thread.join(10_000);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reference, figures, report

  /**
   * What a fault-free run answers: the same topology and settings on the same engine, in this JVM
   * on a {@code TopologyTestDriver}, for one upload per image and one question per image and text
   * (greedy decoding makes each output a function of image and prompt alone).
   */
  private record Reference(Map<String, String> captions, Map<String, String> answers) {
    static Reference compute(Properties settings, Path stateDir) throws IOException {
      ShopLensConfig config = ShopLensConfig.validate(toMap(settings));
      // The tiny bundle's manifest says so (the instances read it there); a wrong value here
      // would change the prompts, and every output would differ from the instances'.
      ShopLensTopologyConfig topology = config.topologyConfig("shoplens/tiny-blip2-opt", 10);
      Map<String, String> captions = new HashMap<>();
      Map<String, String> answers = new HashMap<>();
      try (BatchingInferenceEngine engine =
              BatchingInferenceEngine.start(config.modelPath(), config.engineConfig());
          TopologyHarness harness =
              new TopologyHarness(
                  topology,
                  engine,
                  ImageResolver.inlineOnly(1_000_000),
                  Files.createDirectories(stateDir))) {
        int expected = 0;
        for (String image : IMAGES) {
          harness.uploads.pipeInput(image, TestEvents.upload(image, TestEvents.image(image)));
          expected++;
          for (String text : TEXTS) {
            harness.questions.pipeInput(
                image, TestEvents.question(image + "|" + text, image, text));
            expected++;
          }
        }
        int want = expected;
        await()
            .atMost(Duration.ofMinutes(3))
            .pollInSameThread()
            .pollInterval(Duration.ofMillis(20))
            .until(
                () -> {
                  harness.tick();
                  harness
                      .captions
                      .readValuesToList()
                      .forEach(c -> captions.put(c.getUploadId(), print(c)));
                  harness
                      .answers
                      .readValuesToList()
                      .forEach(a -> answers.put(a.getQuestionId(), print(a)));
                  assertThat(harness.deadLetters.readValuesToList()).isEmpty();
                  return captions.size() + answers.size() == want;
                });
      }
      return new Reference(captions, answers);
    }
  }

  private static Map<String, Object> toMap(Properties p) {
    Map<String, Object> m = new HashMap<>();
    p.forEach((k, v) -> m.put(k.toString(), v));
    return m;
  }

  /** What must match the reference: the text and how generation ended (not timings). */
  static String print(QuestionAnswered a) {
    return a.getAnswer() + " [" + a.getFinishReason() + "]";
  }

  static String print(ImageCaptioned c) {
    return c.getCaption()
        + " ["
        + c.getFinishReason()
        + "] "
        + c.getAttributes().stream()
            .map(x -> x.getName() + "=" + x.getValue())
            .collect(Collectors.joining(", "));
  }

  private record Figures(
      int questions,
      int answerRecords,
      int duplicateAnswers,
      List<String> missingAnswers,
      int uploads,
      int captionRecords,
      int duplicateCaptions,
      List<String> missingCaptions,
      int deadLetters,
      List<String> mismatches,
      int resubmittedJobs,
      int starts) {
    static Figures of(
        Verifier v,
        List<QuestionAsked> questions,
        List<ImageUploaded> uploads,
        Map<String, String> imageOf,
        Reference reference,
        List<Instance> instances)
        throws IOException {
      List<String> missingAnswers = new ArrayList<>();
      List<String> mismatches = new ArrayList<>();
      for (QuestionAsked q : questions) {
        List<QuestionAnswered> got = v.answers.get(q.getQuestionId());
        if (got == null) {
          missingAnswers.add(q.getQuestionId());
          continue;
        }
        String want = reference.answers().get(imageOf.get(q.getUploadId()) + "|" + q.getText());
        for (QuestionAnswered a : got) {
          if (!print(a).equals(want)) {
            mismatches.add(q.getQuestionId() + ": got " + print(a) + ", reference " + want);
          }
        }
      }
      List<String> missingCaptions = new ArrayList<>();
      for (ImageUploaded u : uploads) {
        List<ImageCaptioned> got = v.captions.get(u.getUploadId());
        if (got == null) {
          missingCaptions.add(u.getUploadId());
          continue;
        }
        String want = reference.captions().get(imageOf.get(u.getUploadId()));
        for (ImageCaptioned c : got) {
          if (!print(c).equals(want)) {
            mismatches.add(u.getUploadId() + ": got " + print(c) + ", reference " + want);
          }
        }
      }
      int resubmitted = 0;
      int starts = 0;
      for (Instance i : instances) {
        starts += i.starts;
      }
      try (var files = Files.list(instances.get(0).logs)) {
        for (Path log : files.filter(p -> p.toString().endsWith(".log")).toList()) {
          for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            int at = line.indexOf("re-submitting ");
            if (at >= 0) {
              resubmitted += Integer.parseInt(line.substring(at + 14).split(" ")[0]);
            }
          }
        }
      }
      return new Figures(
          questions.size(),
          v.answerRecords.get(),
          v.answerRecords.get() - v.answers.size(),
          missingAnswers,
          uploads.size(),
          v.captionRecords.get(),
          v.captionRecords.get() - v.captions.size(),
          missingCaptions,
          v.deadLetters.size(),
          mismatches,
          resubmitted,
          starts);
    }
  }

  /** Every line of every instance log that contains one of {@code secrets} (named, not shown). */
  private static List<String> scanForSecrets(Path logs, List<String> secrets) throws IOException {
    List<String> found = new ArrayList<>();
    int lines = 0;
    try (var files = Files.list(logs)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
        lines += all.size();
        for (int n = 0; n < all.size(); n++) {
          for (int s = 0; s < secrets.size(); s++) {
            if (all.get(n).contains(secrets.get(s))) {
              found.add(log.getFileName() + ":" + (n + 1) + " holds secret #" + s);
            }
          }
        }
      }
    }
    // The scan must have had something to read: every start logs its configuration.
    assertThat(lines).as("instance log lines scanned").isGreaterThan(100);
    log(
        "scanned %d instance log lines for %d secrets: %d hits",
        lines, secrets.size(), found.size());
    return found;
  }

  private String report(
      List<FaultPlan.Fault> plan,
      List<FaultRecord> faults,
      Figures f,
      double elapsed,
      RegistryHttpServer registry,
      List<String> leaks,
      List<Integer> brokers) {
    StringBuilder s = new StringBuilder();
    s.append(
        String.format(
            Locale.ROOT,
            "Seed %d; %d instances (+1 added and removed), %d brokers %s (replication factor 3,"
                + " min.insync.replicas 2), %d partitions; run took %.0f s (%s).%n%n",
            seed,
            INSTANCES,
            BROKERS,
            brokers,
            PARTITIONS,
            elapsed,
            Instant.now()));
    s.append(
        "| # | time (s) | fault | target | held (s) | pending partitions | recovered after (s) |\n");
    s.append("|---|---:|---|---|---:|---:|---:|\n");
    for (int i = 0; i < faults.size(); i++) {
      FaultRecord r = faults.get(i);
      s.append(
          String.format(
              Locale.ROOT,
              "| %d | %.1f | %s | %s | %.1f | %d | %s |%n",
              i + 1,
              r.atSeconds,
              r.fault.kind().label,
              r.target,
              r.heldSeconds,
              r.pendingPartitions,
              Double.isNaN(r.recoverySeconds)
                  ? "not within " + RECOVERY_LIMIT.toSeconds()
                  : String.format(Locale.ROOT, "%.1f", r.recoverySeconds)));
    }
    double[] rec = faults.stream().mapToDouble(FaultRecord::recoverySeconds).sorted().toArray();
    if (rec.length > 0) {
      s.append(
          String.format(
              Locale.ROOT,
              "%nRecovery: median %.1f s, max %.1f s.%n",
              rec[rec.length / 2],
              rec[rec.length - 1]));
    }
    Map<String, Long> byKind =
        faults.stream()
            .collect(
                Collectors.groupingBy(
                    r -> r.fault.kind().label, TreeMap::new, Collectors.counting()));
    s.append("Faults by kind: ").append(byKind).append(".\n\n");
    s.append("| count | value |\n|---|---:|\n");
    row(s, "questions", f.questions);
    row(s, "answers committed", f.answerRecords);
    row(s, "duplicate answers", f.duplicateAnswers);
    row(s, "missing answers", f.missingAnswers.size());
    row(s, "uploads", f.uploads);
    row(s, "captions committed", f.captionRecords);
    row(s, "duplicate captions", f.duplicateCaptions);
    row(s, "missing captions", f.missingCaptions.size());
    row(s, "dead letters", f.deadLetters);
    row(s, "mismatches vs reference", f.mismatches.size());
    row(s, "instance starts", f.starts);
    row(s, "instances that exited by themselves (restarted)", unplannedExits.size());
    row(s, "in-flight jobs re-submitted after restarts", f.resubmittedJobs);
    row(s, "registry requests refused during outages", registry.refused());
    row(s, "registry outages met with nothing to read (not felt)", outagesNotFelt);
    row(s, "credential hits in instance logs", leaks.size());
    if (!unplannedExits.isEmpty()) {
      s.append("\nExits by themselves:\n");
      unplannedExits.forEach(e -> s.append("- ").append(e).append('\n'));
    }
    if (!f.mismatches.isEmpty()) {
      s.append("\nFirst mismatches:\n");
      f.mismatches.stream().limit(10).forEach(m -> s.append("- ").append(m).append('\n'));
    }
    return s.toString();
  }

  private static void row(StringBuilder s, String name, int value) {
    s.append("| ").append(name).append(" | ").append(value).append(" |\n");
  }

  private double seconds(long nanos) {
    return (nanos - t0) / 1e9;
  }

  private static void log(String format, Object... args) {
    System.out.printf(Locale.ROOT, "fault-it: " + format + "%n", args);
  }
}
