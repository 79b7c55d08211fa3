package io.shoplens.processor.topology.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.topology.JsonStoreSerde;
import io.shoplens.processor.topology.Origin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The exactly-once job protocol on its own, with {@link MockProcessorContext} and a store that
 * outlives the processor instances (as a restored changelog does): recording, forwarding from the
 * punctuator, re-submission on restore, retry with backoff, failure classes, the in-flight bound,
 * sequences and cancellation.
 */
class AsyncJobsTest {
  private static final String STORE = "test-jobs";
  private static final Duration BACKOFF = Duration.ofMillis(100);
  private static final int MAX_ATTEMPTS = 3;

  /** A job as the test stores it. */
  record TestJob(String id, Origin origin, int attempts, String sequenceKey)
      implements AsyncJob<TestJob> {
    @Override
    public TestJob withAttempts(int n) {
      return new TestJob(id, origin, n, sequenceKey);
    }
  }

  /** A domain whose jobs complete when the test says so. */
  static class HeldWork implements JobWork<TestJob, String> {
    final Map<String, CompletableFuture<String>> running = new LinkedHashMap<>();
    final List<String> started = new ArrayList<>();
    final List<String> succeeded = new ArrayList<>();
    final List<DeadLetter> failed = new ArrayList<>();

    @Override
    public CompletableFuture<String> start(TestJob job) {
      started.add(job.id());
      CompletableFuture<String> f = new CompletableFuture<>();
      running.put(job.id(), f);
      return f;
    }

    @Override
    public int weight(TestJob job) {
      return 1;
    }

    @Override
    public void succeeded(TestJob job, String result, long now) {
      succeeded.add(job.id() + "=" + result);
    }

    @Override
    public void failed(TestJob job, DeadLetter letter, Throwable error, long now) {
      failed.add(letter);
    }

    void complete(String id) {
      running.remove(id).complete("done-" + id);
    }

    void fail(String id, Throwable error) {
      running.remove(id).completeExceptionally(error);
    }
  }

  private final MockProcessorContext<String, String> first = new MockProcessorContext<>();
  private final KeyValueStore<String, TestJob> store = store(first);

  @AfterEach
  void tearDown() {
    store.close();
  }

  @Test
  void shouldRecordAJobAndForwardItsResultOnlyFromThePunctuatorThenForgetIt() {
    // Given
    HeldWork work = new HeldWork();
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);

    // When a job is accepted and completes
    jobs.accept(job("a", null));
    assertThat(store.get("a")).as("recorded before anything runs").isNotNull();
    work.complete("a");
    assertThat(work.succeeded).as("nothing is forwarded off the punctuator").isEmpty();
    punctuate(first, 10);

    // Then its result is handed over once and the job deleted
    assertThat(work.succeeded).containsExactly("a=done-a");
    assertThat(store.get("a")).isNull();
    assertThat(jobs.pending()).isZero();
    punctuate(first, 20);
    assertThat(work.succeeded).hasSize(1);
  }

  @Test
  void shouldStartJobsLeftInTheStoreAgainOnRestoreAndIgnoreTheOldInstancesResults() {
    // Given an instance that goes away with two jobs running
    HeldWork before = new HeldWork();
    AsyncJobs<TestJob, String> old = open(first, before, 10);
    old.accept(job("a", null));
    old.accept(job("b", null));
    old.close();
    before.complete("a");
    punctuate(first, 10);
    assertThat(before.succeeded).as("a closed instance forwards nothing").isEmpty();

    // When a new instance opens the same store
    HeldWork after = new HeldWork();
    MockProcessorContext<String, String> second = context();
    open(second, after, 10);

    // Then it starts both again, in key order, and forwards each once
    assertThat(after.started).containsExactly("a", "b");
    after.complete("a");
    after.complete("b");
    punctuate(second, 20);
    assertThat(after.succeeded).containsExactly("a=done-a", "b=done-b");
    assertThat(store.approximateNumEntries()).isZero();

    // And a third instance finds nothing to do
    HeldWork third = new HeldWork();
    open(context(), third, 10);
    assertThat(third.started).isEmpty();
  }

  @Test
  void shouldRetryARetriableFailureAfterTheBackoffAndDeadLetterAtMaxAttempts() {
    // Given
    HeldWork work = new HeldWork();
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);
    jobs.accept(job("a", null));

    // When every try fails with a model error
    work.fail("a", new InferenceException("boom 1"));
    punctuate(first, 1_000);
    assertThat(store.get("a").attempts()).as("attempts kept in the store").isEqualTo(1);
    punctuate(first, 1_000 + BACKOFF.toMillis() - 1);
    assertThat(work.started).as("not before the backoff").containsExactly("a");
    punctuate(first, 1_000 + BACKOFF.toMillis());
    assertThat(work.started).containsExactly("a", "a");
    work.fail("a", new InferenceException("boom 2"));
    punctuate(first, 2_000);
    punctuate(first, 2_000 + BACKOFF.toMillis());
    work.fail("a", new InferenceException("boom 3"));
    punctuate(first, 3_000);

    // Then the third failure is the last: one dead letter, the job gone
    assertThat(work.started).hasSize(MAX_ATTEMPTS);
    assertThat(work.failed).hasSize(1);
    DeadLetter letter = work.failed.get(0);
    assertThat(letter.getStage()).isEqualTo(ProcessingStage.INFERENCE);
    assertThat(letter.getAttempts()).isEqualTo(MAX_ATTEMPTS);
    assertThat(letter.getErrorClass()).isEqualTo(InferenceException.class.getName());
    assertThat(letter.getErrorMessage()).isEqualTo("boom 3");
    assertThat(letter.getSourceTopic()).isEqualTo("in");
    assertThat(letter.getSourceOffset()).isEqualTo(7);
    assertThat(store.get("a")).isNull();
    assertThat(work.succeeded).isEmpty();
  }

  @Test
  void shouldDeadLetterAPermanentFailureAtOnce() {
    // Given
    HeldWork work = new HeldWork();
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);
    jobs.accept(job("a", null));

    // When the engine cannot do this kind of request at all
    work.fail("a", new UnsupportedOperationException("no embeddings"));
    punctuate(first, 10);

    // Then it is not tried again
    assertThat(work.failed).singleElement().satisfies(l -> assertThat(l.getAttempts()).isOne());
    punctuate(first, 10 + BACKOFF.toMillis());
    assertThat(work.started).hasSize(1);
    assertThat(store.get("a")).isNull();
  }

  @Test
  void shouldDeadLetterAJobWhoseStartThrows() {
    // Given a domain that refuses a job while preparing it
    HeldWork work =
        new HeldWork() {
          @Override
          public CompletableFuture<String> start(TestJob job) {
            throw new IllegalArgumentException("bad prompt");
          }
        };
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);

    // When
    jobs.accept(job("a", null));
    punctuate(first, 10);

    // Then
    assertThat(work.failed)
        .singleElement()
        .satisfies(l -> assertThat(l.getStage()).isEqualTo(ProcessingStage.PREPROCESS));
  }

  @Test
  void shouldNotCountTriesTheEngineRefusedToRun() {
    // Given
    HeldWork work = new HeldWork();
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);
    jobs.accept(job("a", null));

    // When the engine refuses it more often than maxAttempts
    for (int i = 0; i < MAX_ATTEMPTS + 1; i++) {
      work.fail("a", new RequestRejectedException("queue full"));
      punctuate(first, i * 1_000L);
      punctuate(first, i * 1_000L + BACKOFF.toMillis());
    }

    // Then it is still tried, with no attempts counted, and succeeds in the end
    assertThat(store.get("a").attempts()).isZero();
    work.complete("a");
    punctuate(first, 10_000);
    assertThat(work.failed).isEmpty();
    assertThat(work.succeeded).containsExactly("a=done-a");
  }

  @Test
  void shouldKeepNoMoreJobsRunningThanTheLimiterAllows() {
    // Given room for two engine requests
    HeldWork work = new HeldWork();
    InFlightLimiter limiter = new InFlightLimiter(2);
    AsyncJobs<TestJob, String> jobs = open(first, work, limiter);

    // When three jobs come
    jobs.accept(job("a", null));
    jobs.accept(job("b", null));
    jobs.accept(job("c", null));

    // Then the third waits, recorded, until one completes
    assertThat(work.started).containsExactly("a", "b");
    assertThat(limiter.inFlight()).isEqualTo(2);
    assertThat(store.get("c")).isNotNull();
    work.complete("a");
    assertThat(limiter.inFlight()).as("permits come back on completion").isEqualTo(1);
    punctuate(first, 10);
    assertThat(work.started).containsExactly("a", "b", "c");
  }

  @Test
  void shouldRunTheJobsOfOneSequenceOneAfterAnother() {
    // Given two turns of one conversation and an unrelated job
    HeldWork work = new HeldWork();
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);
    jobs.accept(job("t1", "conversation"));
    jobs.accept(job("t2", "conversation"));
    jobs.accept(job("x", null));

    // Then the second turn starts only once the first is settled
    assertThat(work.started).containsExactly("t1", "x");
    work.complete("t1");
    punctuate(first, 10);
    assertThat(work.started).containsExactly("t1", "x", "t2");
  }

  @Test
  void shouldDropTheResultOfACancelledJob() {
    // Given
    HeldWork work = new HeldWork();
    AsyncJobs<TestJob, String> jobs = open(first, work, 10);
    jobs.accept(job("a", null));

    // When a later record supersedes it while it runs
    jobs.cancel("a");
    work.complete("a");
    punctuate(first, 10);

    // Then nothing is forwarded and nothing is left
    assertThat(work.succeeded).isEmpty();
    assertThat(store.get("a")).isNull();
    assertThat(jobs.pending()).isZero();
  }

  private static TestJob job(String id, String sequence) {
    Origin origin =
        new Origin(
            "in",
            0,
            7,
            1L,
            id.getBytes(StandardCharsets.UTF_8),
            new byte[] {1},
            List.of(new Origin.RawHeader("h", new byte[] {2})));
    return new TestJob(id, origin, 0, sequence);
  }

  private AsyncJobs<TestJob, String> open(
      MockProcessorContext<String, String> ctx, HeldWork work, int capacity) {
    return open(ctx, work, new InFlightLimiter(capacity));
  }

  private AsyncJobs<TestJob, String> open(
      MockProcessorContext<String, String> ctx, HeldWork work, InFlightLimiter limiter) {
    AsyncJobs<TestJob, String> jobs =
        new AsyncJobs<>(
            STORE,
            new AsyncJobs.Settings(
                Duration.ofMillis(10), BACKOFF, MAX_ATTEMPTS, Duration.ofMillis(1), Duration.ZERO),
            limiter,
            work);
    jobs.init(ctx);
    return jobs;
  }

  private MockProcessorContext<String, String> context() {
    MockProcessorContext<String, String> ctx = new MockProcessorContext<>();
    ctx.addStateStore(store);
    return ctx;
  }

  private static void punctuate(MockProcessorContext<String, String> ctx, long now) {
    ctx.setCurrentSystemTimeMs(now);
    ctx.scheduledPunctuators().forEach(p -> p.getPunctuator().punctuate(now));
  }

  private static KeyValueStore<String, TestJob> store(MockProcessorContext<String, String> ctx) {
    KeyValueStore<String, TestJob> store =
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(STORE),
                Serdes.String(),
                JsonStoreSerde.of(TestJob.class))
            .withLoggingDisabled()
            .build();
    store.init(ctx.getStateStoreContext(), store);
    ctx.addStateStore(store);
    return store;
  }
}
