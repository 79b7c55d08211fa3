package io.shoplens.processor.topology;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.registry.MockSchemaRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once across crashes: the ShopLens Streams instance runs in a child JVM ({@link
 * CrashTestInstance}) on the tiny model against an in-process KRaft broker, and is killed without a
 * clean shutdown several times while inference is in flight, then restarted on the same state
 * directory. A {@code read_committed} consumer must then see every question answered exactly once
 * and every upload captioned exactly once.
 *
 * <p>Two ways to die, alternating: the child halts itself ({@code Runtime.halt}) from an engine
 * completion, so a result is computed but neither forwarded nor committed; and the parent sends
 * SIGKILL ({@code Process.destroyForcibly}) once the run has committed some answers, with the
 * backlog still being worked through.
 *
 * <p>The child has its own {@code mock://} registry (one per JVM); both sides register the event
 * schemas in one fixed order first ({@link FixedSchemaIds}), which gives the same ids in both.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ExactlyOnceCrashIT {
  private static final int PARTITIONS = 4;
  private static final int UPLOADS = 24;
  private static final int QUESTIONS_PER_UPLOAD = 10;
  private static final String[] IMAGES = {"tiny.png", "photo.jpg", "wide.png", "alpha.png"};
  private static final String[] TEXTS = {
    "what is it?",
    "what colour is it?",
    "is it for men?",
    "what is the material?",
    "is it striped?",
    "how would you style it?"
  };
  private static final Duration RUN_DEADLINE = Duration.ofSeconds(90);

  /** How one run of the child ends. */
  private record Run(String how, int after) {
    static Run haltInside(int engineResults) {
      return new Run("halt", engineResults);
    }

    static Run sigkill(int newAnswers) {
      return new Run("sigkill", newAnswers);
    }

    static Run toTheEnd() {
      return new Run("end", 0);
    }
  }

  @TempDir Path work;

  private final List<Process> children = new ArrayList<>();
  private String scope;

  @AfterEach
  void killChildrenAndDropRegistry() {
    for (Process p : children) {
      p.destroyForcibly();
    }
    if (scope != null) {
      MockSchemaRegistry.dropScope(scope);
    }
  }

  @Test
  void shouldAnswerEveryQuestionExactlyOnceWhenTheInstanceIsKilledMidBatchAndRestarted()
      throws Exception {
    long begin = System.nanoTime();
    scope = "crash-it-" + UUID.randomUUID();
    assertThat(FixedSchemaIds.register(scope)).containsExactly(1, 2, 3, 4, 5, 6, 7);
    Topics topics = Topics.create(FixedSchemaIds.serdeConfig(scope));
    List<Run> plan =
        List.of(
            Run.haltInside(90),
            Run.sigkill(25),
            Run.haltInside(60),
            Run.sigkill(25),
            Run.toTheEnd());

    try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start()) {
      createTopics(
          kafka,
          PARTITIONS,
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.DEAD_LETTERS));

      // Given 24 uploads and 240 questions about them (a three-turn conversation per upload)
      Map<String, String> imageOf = new LinkedHashMap<>();
      List<QuestionAsked> questions = new ArrayList<>();
      for (int u = 0; u < UPLOADS; u++) {
        String uploadId = "up-" + u;
        imageOf.put(uploadId, IMAGES[u % IMAGES.length]);
        for (int q = 0; q < QUESTIONS_PER_UPLOAD; q++) {
          String conversation = q >= QUESTIONS_PER_UPLOAD - 3 ? "c-" + uploadId : null;
          questions.add(
              TestEvents.question(
                  uploadId + "-q" + q, uploadId, conversation, TEXTS[(u + q) % TEXTS.length]));
        }
      }
      try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
        for (Map.Entry<String, String> e : imageOf.entrySet()) {
          send(
              producer,
              topics.imageUploads(),
              e.getKey(),
              TestEvents.upload(e.getKey(), TestEvents.image(e.getValue())));
        }
        for (QuestionAsked q : questions) {
          send(producer, topics.questions(), q.getUploadId(), q);
        }
        producer.flush();
      }

      // When the instance is killed mid-batch and restarted, again and again
      String appId = "shoplens-crash-it-" + UUID.randomUUID();
      // The children's logs stay for diagnosis where the build says (failsafe sets it).
      String logsDir = System.getProperty("shoplens.crash-it.logs");
      Path logs =
          Files.createDirectories(logsDir == null ? work.resolve("logs") : Path.of(logsDir));
      Path stateDir = Files.createDirectories(work.resolve("state"));
      int kills = 0;
      int resubmittedJobs = 0;
      try (Outputs outputs = new Outputs(kafka, topics)) {
        for (int i = 0; i < plan.size(); i++) {
          Run run = plan.get(i);
          Path log = logs.resolve("child-" + i + ".log");
          Process child =
              startChild(kafka, appId, stateDir, run.how().equals("halt") ? run.after() : 0, log);
          int answersBefore = outputs.answerRecords();
          switch (run.how()) {
            case "halt" -> {
              assertThat(child.waitFor(RUN_DEADLINE.toSeconds(), TimeUnit.SECONDS))
                  .as(
                      "run %d halts itself after %d engine results; log:%n%s",
                      i, run.after(), tail(log))
                  .isTrue();
              assertThat(child.exitValue())
                  .as("run %d exit code; log:%n%s", i, tail(log))
                  .isEqualTo(CrashTestInstance.HALT_EXIT_CODE);
              kills++;
            }
            case "sigkill" -> {
              awaitOutputs(
                  outputs,
                  child,
                  log,
                  () -> outputs.answerRecords() >= answersBefore + run.after());
              child.destroyForcibly();
              assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
              kills++;
            }
            default -> {
              try {
                awaitOutputs(
                    outputs,
                    child,
                    log,
                    () ->
                        outputs.answered().size() == questions.size()
                            && outputs.captioned().size() == UPLOADS);
              } catch (ConditionTimeoutException e) {
                // Fall through to the figures: they say what was lost, which a time-out does not.
                System.out.printf("crash-it: outputs incomplete after %s%n", RUN_DEADLINE);
              }
              // Nothing more arrives: no duplicate is merely late.
              for (int k = 0; k < 5; k++) {
                outputs.poll();
              }
              child.destroy();
              if (!child.waitFor(30, TimeUnit.SECONDS)) {
                child.destroyForcibly();
              }
            }
          }
          outputs.poll();
          int resubmitted = resubmitted(log);
          resubmittedJobs += resubmitted;
          System.out.printf(
              Locale.ROOT,
              "crash-it run %d (%s %d): answers committed %d -> %d, in-flight jobs re-submitted at"
                  + " start %d%n",
              i,
              run.how(),
              run.after(),
              answersBefore,
              outputs.answerRecords(),
              resubmitted);
        }

        // Then every question was answered exactly once, and every upload captioned once
        int duplicates = outputs.answerRecords() - outputs.answered().size();
        Set<String> lost = new HashSet<>();
        questions.forEach(q -> lost.add(q.getQuestionId()));
        lost.removeAll(outputs.answered().keySet());
        System.out.printf(
            Locale.ROOT,
            "crash-it figures: questions %d, answers %d, duplicates %d, lost %d, captions %d/%d,"
                + " dead letters %d, kills %d, restarts %d, in-flight jobs re-submitted %d,"
                + " elapsed %.1f s%n",
            questions.size(),
            outputs.answerRecords(),
            duplicates,
            lost.size(),
            outputs.captionRecords(),
            UPLOADS,
            outputs.deadLetters().size(),
            kills,
            plan.size() - 1,
            resubmittedJobs,
            (System.nanoTime() - begin) / 1e9);
        assertThat(lost).as("questions never answered").isEmpty();
        assertThat(duplicates).as("answers committed more than once").isZero();
        assertThat(outputs.answered().keySet())
            .containsExactlyInAnyOrderElementsOf(
                questions.stream().map(QuestionAsked::getQuestionId).toList());
        assertThat(outputs.captionRecords()).as("captions").isEqualTo(UPLOADS);
        assertThat(outputs.captioned().keySet()).isEqualTo(imageOf.keySet());
        assertThat(outputs.deadLetters()).as("dead letters").isEmpty();
        assertThat(kills).isGreaterThanOrEqualTo(3);
        // The kills did cut through work in flight: restarts found accepted jobs to redo.
        assertThat(resubmittedJobs).as("in-flight jobs re-submitted after kills").isPositive();

        // And a re-run after a crash answers like the first run: one answer per image and text
        Map<String, Set<String>> answersByPrompt = new HashMap<>();
        for (QuestionAsked q : questions) {
          if (q.getConversationId() == null) {
            answersByPrompt
                .computeIfAbsent(
                    imageOf.get(q.getUploadId()) + "|" + q.getText(), k -> new HashSet<>())
                .add(outputs.answered().get(q.getQuestionId()).getAnswer());
          }
        }
        assertThat(answersByPrompt.values()).allSatisfy(set -> assertThat(set).hasSize(1));
      }
    }
  }

  private static void awaitOutputs(
      Outputs outputs, Process child, Path log, Callable<Boolean> done) {
    await()
        .atMost(RUN_DEADLINE)
        .pollInSameThread()
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              outputs.poll();
              if (done.call()) {
                return true;
              }
              assertThat(child.isAlive()).as("child died on its own; log:%n%s", tail(log)).isTrue();
              return false;
            });
  }

  private Process startChild(
      EmbeddedKafkaCluster kafka, String appId, Path stateDir, int haltAfter, Path log)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx384m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    for (String p : List.of("DJL_CACHE_DIR", "ENGINE_CACHE_DIR", "shoplens.test.bundle")) {
      String v = System.getProperty(p);
      if (v != null) {
        command.add("-D" + p + "=" + v);
      }
    }
    command.add(CrashTestInstance.class.getName());
    command.add("bootstrap=" + kafka.bootstrapServers());
    command.add("scope=" + scope);
    command.add("app-id=" + appId);
    command.add("state-dir=" + stateDir);
    command.add("halt-after=" + haltAfter);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.redirectOutput(log.toFile());
    // The class path goes through CLASSPATH, not -cp: ONNX Runtime Java crashes when the command
    // line is longer than about 4 KB (see scripts/bench-engine).
    builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    Process child = builder.start();
    children.add(child);
    return child;
  }

  /** In-flight jobs the child found in its store at start, from its log. */
  private static int resubmitted(Path log) throws IOException {
    int n = 0;
    for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
      int at = line.indexOf("re-submitting ");
      if (at >= 0) {
        n += Integer.parseInt(line.substring(at + 14).split(" ")[0]);
      }
    }
    return n;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** What a read_committed consumer has seen on the output topics so far. */
  private static final class Outputs implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final Map<String, QuestionAnswered> answered = new HashMap<>();
    private final Map<String, ImageCaptioned> captioned = new HashMap<>();
    private final List<DeadLetter> deadLetters = new ArrayList<>();
    private int answerRecords;
    private int captionRecords;

    Outputs(EmbeddedKafkaCluster kafka, Topics topics) {
      this.topics = topics;
      consumer = readCommittedConsumer(kafka, "crash-it-verifier-");
      consumer.subscribe(List.of(Topics.CAPTIONS, Topics.ANSWERS, Topics.DEAD_LETTERS));
    }

    void poll() {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        switch (r.topic()) {
          case Topics.ANSWERS -> {
            QuestionAnswered a = read(topics.answers(), r);
            answerRecords++;
            answered.put(a.getQuestionId(), a);
          }
          case Topics.CAPTIONS -> {
            ImageCaptioned c = read(topics.captions(), r);
            captionRecords++;
            captioned.put(c.getUploadId(), c);
          }
          default -> deadLetters.add(read(topics.deadLetters(), r));
        }
      }
    }

    int answerRecords() {
      return answerRecords;
    }

    int captionRecords() {
      return captionRecords;
    }

    Map<String, QuestionAnswered> answered() {
      return answered;
    }

    Map<String, ImageCaptioned> captioned() {
      return captioned;
    }

    List<DeadLetter> deadLetters() {
      return deadLetters;
    }

    @Override
    public void close() {
      consumer.close();
    }
  }
}
