package io.shoplens.processor.topology.jobs;

import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.StoreValues;
import io.shoplens.processor.topology.jobs.FailurePolicy.Failure;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a processor's jobs off the stream thread without giving up exactly-once. One instance per
 * processor instance (per task); every method is called on the stream thread.
 *
 * <p>Protocol:
 *
 * <ol>
 *   <li>{@link #accept} writes the job to the changelogged store (in the transaction that also
 *       commits the input offset), then starts it ({@link JobWork#start}). Nothing is forwarded
 *       there.
 *   <li>The job's future completes on another thread; the completion is queued in memory.
 *   <li>A wall-clock punctuator on the stream thread hands each completed result to {@link
 *       JobWork#succeeded} (or a dead letter to {@link JobWork#failed}) and deletes the job from
 *       the store: output and deletion commit in one transaction.
 *   <li>On {@link #init} (after restore), every job still in the store is started again, in key
 *       order.
 * </ol>
 *
 * <p>So after a crash a job is either uncommitted (its input is read again) or in the store
 * (started again), and its output is committed exactly when its deletion is: nothing lost, nothing
 * duplicated for a {@code read_committed} consumer. Starting a job twice must therefore be harmless
 * (for inference: generation is seeded, so deterministic per request).
 *
 * <p>Failures go through {@link FailurePolicy}: a retriable one is tried again after {@code
 * retryBackoff}, its count of attempts kept in the store, until {@code maxAttempts}; a permanent
 * one, or the last attempt, becomes a dead letter built by {@link DeadLetters}.
 *
 * <p>Engine requests in flight are bounded by an {@link InFlightLimiter}, which may be shared
 * across tasks. When it is full, {@link #accept} waits for completions in slices of {@code
 * waitSlice}, at most {@code maxBlock} in all; a job that still does not fit stays recorded and is
 * started by the punctuator when room frees up.
 *
 * @param <J> the job, as stored
 * @param <R> what a finished job yields
 */
public final class AsyncJobs<J extends AsyncJob<J>, R> {
  private static final Logger LOG = LoggerFactory.getLogger(AsyncJobs.class);

  /**
   * How jobs are paced.
   *
   * @param punctuationInterval wall-clock interval at which completions are forwarded
   * @param retryBackoff wait before a failed job is tried again
   * @param maxAttempts tries per job for retriable failures
   * @param waitSlice how long one wait for room in the limiter lasts
   * @param maxBlock longest {@link #accept} waits for room in all (zero: never waits)
   */
  public record Settings(
      Duration punctuationInterval,
      Duration retryBackoff,
      int maxAttempts,
      Duration waitSlice,
      Duration maxBlock) {
    public Settings {
      // The durations are validated where they are configured (ShopLensTopologyConfig).
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
      }
    }

    /** The topology's pacing; {@code blocking} false never waits for room in {@link #accept}. */
    public static Settings of(ShopLensTopologyConfig config, boolean blocking) {
      return new Settings(
          config.punctuationInterval(),
          config.retryBackoff(),
          config.maxAttempts(),
          config.inFlightWaitSlice(),
          blocking ? config.inFlightMaxBlock() : Duration.ZERO);
    }
  }

  /** A job known to this instance. */
  private final class Tracked {
    J job;
    long submission = -1;
    boolean running;
    boolean queued;
    long retryAt = Long.MAX_VALUE;

    Tracked(J job) {
      this.job = job;
    }
  }

  private record Completion<T>(String id, long submission, T result, Throwable error) {}

  private final String storeName;
  private final Settings settings;
  private final InFlightLimiter limiter;
  private final JobWork<J, R> work;

  private KeyValueStore<String, J> store;
  private String task = "?";
  private final Map<String, Tracked> tracked = new LinkedHashMap<>();
  private final ArrayDeque<Tracked> ready = new ArrayDeque<>();
  private final Map<String, ArrayDeque<Tracked>> sequences = new HashMap<>();
  // Filled by engine and resolver threads, drained by the punctuator on the stream thread.
  private final Queue<Completion<R>> completions = new ConcurrentLinkedQueue<>();
  private long submissions;

  /**
   * @param storeName the changelogged store of jobs, by {@link AsyncJob#id}
   * @param settings pacing
   * @param limiter the in-flight bound (shared or this instance's own)
   * @param work the processor's domain
   */
  public AsyncJobs(
      String storeName, Settings settings, InFlightLimiter limiter, JobWork<J, R> work) {
    this.storeName = Objects.requireNonNull(storeName, "storeName");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.limiter = Objects.requireNonNull(limiter, "limiter");
    this.work = Objects.requireNonNull(work, "work");
  }

  /**
   * Opens the store, starts again every job a restore left in it, and schedules the punctuator.
   * Call from the processor's {@code init}.
   */
  public void init(ProcessorContext<?, ?> context) {
    store = context.getStateStore(storeName);
    task = String.valueOf(context.taskId());
    // Stores are restored before processors are initialised: what is left was accepted, but its
    // result was never committed.
    List<J> recovered = StoreValues.all(store);
    for (J job : recovered) {
      admit(job);
    }
    if (!recovered.isEmpty()) {
      LOG.info(
          "task {}: re-submitting {} jobs left in {} from an earlier run",
          task,
          recovered.size(),
          storeName);
      submitReady(false);
    }
    context.schedule(
        settings.punctuationInterval(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
  }

  /** Records {@code job} and starts it when the bound and its sequence allow. */
  public void accept(J job) {
    store.put(job.id(), job);
    admit(job);
    submitReady(true);
  }

  /**
   * Forgets the job {@code id} (a later record superseded it): deleted from the store, and a result
   * still to come is dropped. Does nothing for an unknown id.
   */
  public void cancel(String id) {
    store.delete(id);
    Tracked t = tracked.get(id);
    if (t != null) {
      settle(t);
    }
  }

  /** Jobs recorded and not yet settled. */
  public int pending() {
    return tracked.size();
  }

  /** Drops what is held in memory; jobs stay in the store for whoever opens the task next. */
  public void close() {
    // Futures still running complete into a queue nobody reads; they give their permits back.
    tracked.clear();
    ready.clear();
    sequences.clear();
  }

  private void admit(J job) {
    Tracked t = new Tracked(job);
    tracked.put(job.id(), t);
    String sequence = job.sequenceKey();
    if (sequence == null) {
      enqueue(t);
      return;
    }
    ArrayDeque<Tracked> queue = sequences.computeIfAbsent(sequence, k -> new ArrayDeque<>());
    queue.add(t);
    if (queue.size() == 1) {
      enqueue(t);
    }
  }

  private void enqueue(Tracked t) {
    t.queued = true;
    ready.add(t);
  }

  /** Starts ready jobs in order while the limiter has room; may wait when {@code mayBlock}. */
  private void submitReady(boolean mayBlock) {
    long deadline = System.nanoTime() + settings.maxBlock().toNanos();
    while (!ready.isEmpty()) {
      Tracked t = ready.peek();
      int weight = work.weight(t.job);
      boolean admitted = limiter.tryAcquire(weight);
      while (!admitted && mayBlock && System.nanoTime() < deadline) {
        admitted = limiter.tryAcquire(weight, settings.waitSlice());
        if (Thread.currentThread().isInterrupted()) {
          break;
        }
      }
      if (!admitted) {
        if (mayBlock && !settings.maxBlock().isZero()) {
          LOG.warn(
              "{} engine requests in flight (limit {}) for {}; {} jobs wait for the punctuator",
              limiter.inFlight(),
              limiter.capacity(),
              settings.maxBlock(),
              ready.size());
        }
        return;
      }
      ready.poll();
      t.queued = false;
      submit(t, weight);
    }
  }

  private void submit(Tracked t, int weight) {
    long submission = ++submissions;
    t.submission = submission;
    t.running = true;
    t.retryAt = Long.MAX_VALUE;
    CompletableFuture<R> future;
    try {
      future = work.start(t.job);
    } catch (RuntimeException e) {
      future = CompletableFuture.failedFuture(e);
    }
    String id = t.job.id();
    future.whenComplete(
        (result, error) -> {
          limiter.release(weight);
          completions.add(
              new Completion<>(
                  id, submission, result, error == null ? null : FailurePolicy.unwrap(error)));
        });
  }

  private void punctuate(long now) {
    Completion<R> c;
    while ((c = completions.poll()) != null) {
      complete(c, now);
    }
    for (Tracked t : tracked.values()) {
      if (!t.running && !t.queued && t.retryAt <= now) {
        t.retryAt = Long.MAX_VALUE;
        enqueue(t);
      }
    }
    submitReady(false);
  }

  private void complete(Completion<R> c, long now) {
    Tracked t = tracked.get(c.id());
    if (t == null || t.submission != c.submission()) {
      return; // from a submission that was cancelled or already settled
    }
    t.running = false;
    J job = t.job;
    if (c.error() == null) {
      work.succeeded(job, c.result(), now);
      settle(t);
      store.delete(job.id());
      return;
    }
    Failure f = FailurePolicy.classify(c.error());
    int attempts = f.counts() ? job.attempts() + 1 : job.attempts();
    if (!f.retriable() || attempts >= settings.maxAttempts()) {
      int reported = Math.max(1, attempts);
      LOG.info(
          "dead-lettering {} at stage {} after {} attempts: {}",
          job.origin().coordinates(),
          f.stage(),
          reported,
          c.error().toString());
      work.failed(
          job, DeadLetters.of(job.origin(), f.stage(), c.error(), reported, now), c.error(), now);
      settle(t);
      store.delete(job.id());
      return;
    }
    LOG.debug("retrying {} (attempt {}): {}", job.id(), attempts + 1, c.error().toString());
    t.job = job.withAttempts(attempts);
    store.put(job.id(), t.job);
    t.retryAt = now + settings.retryBackoff().toMillis();
  }

  /** Forgets a job; the next of its sequence becomes ready. */
  private void settle(Tracked t) {
    tracked.remove(t.job.id());
    if (t.queued) {
      ready.remove(t);
      t.queued = false;
    }
    String sequence = t.job.sequenceKey();
    if (sequence == null) {
      return;
    }
    ArrayDeque<Tracked> queue = sequences.get(sequence);
    if (queue == null) {
      return;
    }
    boolean wasHead = queue.peek() == t;
    queue.remove(t);
    if (queue.isEmpty()) {
      sequences.remove(sequence);
    } else if (wasHead) {
      enqueue(queue.peek());
    }
  }
}
