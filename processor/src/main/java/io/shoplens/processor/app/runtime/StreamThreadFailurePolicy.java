package io.shoplens.processor.app.runtime;

import io.shoplens.serde.RetriableSerializationException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;

/**
 * What a stream thread's uncaught failure does to its client: replace the thread, after a backoff,
 * when the Schema Registry could not be reached, and shut the client down for anything else, or
 * when the registry stays out longer than the bound.
 *
 * <p>Why: a registry outage is not a bug and not bad input. An instance that starts (or rebalances)
 * with an empty schema cache during an outage cannot read its inputs; the topology fails the task
 * rather than dead-letter good records ({@code DeadLetterDeserializationHandler}), and before this
 * policy the whole process then exited for its orchestrator to restart it. Replacing the thread
 * reads the same uncommitted records again once the registry answers, in the same process.
 *
 * <p>The bound: at most {@link Settings#maxReplacements()} replacements within {@link
 * Settings#window()}, counted over all stream threads of the client; the next retriable failure in
 * that window shuts the client down as any other failure does, so that a registry that never
 * answers (a wrong {@code schema.registry.url}, a wrong password that the registry answers with a
 * 5xx) still ends the process with a clear message instead of replacing threads for ever. The
 * backoff doubles with each replacement in the window, from {@link Settings#firstBackoff()} up to
 * {@link Settings#maxBackoff()}.
 *
 * <p>Thread-safe: stream threads may fail at the same time.
 */
final class StreamThreadFailurePolicy {

  /**
   * The bound and the backoff.
   *
   * @param maxReplacements most thread replacements within the window; 0 replaces none
   * @param window the sliding window the replacements are counted in
   * @param firstBackoff wait before the first replacement in the window
   * @param maxBackoff longest wait before a replacement
   */
  record Settings(
      int maxReplacements, Duration window, Duration firstBackoff, Duration maxBackoff) {
    Settings {
      if (maxReplacements < 0) {
        throw new IllegalArgumentException(
            "maxReplacements must be at least 0, got " + maxReplacements);
      }
      positive("window", window);
      Objects.requireNonNull(firstBackoff, "firstBackoff");
      Objects.requireNonNull(maxBackoff, "maxBackoff");
      if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
        throw new IllegalArgumentException(
            "expected 0 <= firstBackoff <= maxBackoff, got firstBackoff="
                + firstBackoff
                + " maxBackoff="
                + maxBackoff);
      }
    }

    /**
     * 8 replacements within 10 minutes, waiting 1, 2, 4, 8, 16, 30, 30 and 30 s: an outage of about
     * two minutes is ridden out (the registry client's own retries come on top), a registry that
     * stays out ends the process within about three.
     */
    static Settings defaults() {
      return new Settings(8, Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofSeconds(30));
    }

    private static void positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
    }
  }

  /** What to do with the failed thread. */
  sealed interface Decision {
    /**
     * Replace the thread after {@code backoff}.
     *
     * @param backoff how long to wait first
     * @param replacement which replacement within the window this is, from 1
     */
    record Replace(Duration backoff, int replacement) implements Decision {}

    /**
     * Shut the client down.
     *
     * @param reason why, for the log: the failure's kind, and the bound when it was reached
     */
    record Shutdown(String reason) implements Decision {}
  }

  private final Settings settings;
  private final Deque<Long> replacedAtNanos = new ArrayDeque<>();

  StreamThreadFailurePolicy(Settings settings) {
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  Settings settings() {
    return settings;
  }

  /**
   * Decides for one failure.
   *
   * @param failure what the stream thread threw
   * @param nowNanos {@link System#nanoTime()} now (a parameter, so that tests need no clock)
   */
  synchronized Decision decide(Throwable failure, long nowNanos) {
    if (!registryUnreachable(failure)) {
      return new Decision.Shutdown(
          "a bad record would have been dead-lettered, so this is a bug or an infrastructure"
              + " failure");
    }
    long windowNanos = settings.window().toNanos();
    while (!replacedAtNanos.isEmpty() && nowNanos - replacedAtNanos.peekFirst() >= windowNanos) {
      replacedAtNanos.removeFirst();
    }
    if (replacedAtNanos.size() >= settings.maxReplacements()) {
      return new Decision.Shutdown(
          "the Schema Registry could not be reached, and the stream threads were already replaced "
              + replacedAtNanos.size()
              + " times within "
              + settings.window()
              + " for that (the most allowed); check schema.registry.url, its credentials and the"
              + " registry's health");
    }
    replacedAtNanos.addLast(nowNanos);
    int n = replacedAtNanos.size();
    return new Decision.Replace(backoff(n), n);
  }

  private Duration backoff(int replacement) {
    Duration d = settings.firstBackoff();
    for (int i = 1; i < replacement && d.compareTo(settings.maxBackoff()) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : d;
  }

  /** Whether the registry's retriable failure is anywhere in the cause chain. */
  static boolean registryUnreachable(Throwable e) {
    return registryFailure(e) != null;
  }

  /** The registry's retriable failure in the cause chain, or null. */
  static RetriableSerializationException registryFailure(Throwable e) {
    // Bounded: a cause chain may loop.
    int depth = 0;
    for (Throwable t = e; t != null && depth < 100; t = t.getCause(), depth++) {
      if (t instanceof RetriableSerializationException r) {
        return r;
      }
    }
    return null;
  }
}
