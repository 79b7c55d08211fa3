package io.shoplens.processor.app.runtime;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link KafkaStreams} client the same way wherever ShopLens runs one (the application,
 * replay), after streams-bootstrap's {@code StreamsRunner}:
 *
 * <ul>
 *   <li>A state listener logs every transition, notes when the client stopped by itself, and then
 *       tells the caller's listener (health, for example).
 *   <li>An uncaught exception in a stream thread because the Schema Registry could not be reached
 *       replaces the thread ({@code REPLACE_THREAD}) after a backoff, within a bound (see {@link
 *       StreamThreadFailurePolicy}): the uncommitted records are read again once the registry
 *       answers, in this process.
 *   <li>Any other uncaught exception in a stream thread, or a registry outage beyond that bound, is
 *       logged with the thread, kept as the {@link #failure()}, and shuts this client down ({@code
 *       SHUTDOWN_CLIENT}). Bad records never get here: the topology dead-letters them, so this is a
 *       bug or an infrastructure failure.
 *   <li>{@link #stop()} (and {@link #close()}) leaves the consumer group and waits at most the
 *       close timeout, logging when that wait expires; it is idempotent.
 *   <li>An interrupt during any wait is kept: the flag is restored for the caller.
 * </ul>
 */
public final class StreamsRunner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamsRunner.class);

  private final String name;
  private final KafkaStreams streams;
  private final Duration closeTimeout;
  private final KafkaStreams.StateListener listener;
  private final CountDownLatch terminated = new CountDownLatch(1);
  // Counted down when stop() begins: a backoff before a thread replacement ends there.
  private final CountDownLatch stopping = new CountDownLatch(1);
  private final StreamThreadFailurePolicy failurePolicy;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean closing;
  private boolean closed;

  /**
   * Creates the client; {@link #start()} starts it.
   *
   * @param name what the logs call this client, e.g. "ShopLens" or "replay replay-2025..."
   * @param topology the built topology
   * @param props its Kafka Streams settings
   * @param closeTimeout longest {@link #stop()} waits for the client
   * @param listener told of every state change after the runner has handled it; may do nothing
   */
  public StreamsRunner(
      String name,
      Topology topology,
      Properties props,
      Duration closeTimeout,
      KafkaStreams.StateListener listener) {
    this(
        name,
        topology,
        props,
        closeTimeout,
        listener,
        StreamThreadFailurePolicy.Settings.defaults());
  }

  /** As above, with the bound and backoff of thread replacements given (tests shorten them). */
  StreamsRunner(
      String name,
      Topology topology,
      Properties props,
      Duration closeTimeout,
      KafkaStreams.StateListener listener,
      StreamThreadFailurePolicy.Settings replacements) {
    this.failurePolicy = new StreamThreadFailurePolicy(replacements);
    this.name = Objects.requireNonNull(name, "name");
    this.closeTimeout = Objects.requireNonNull(closeTimeout, "closeTimeout");
    this.listener = Objects.requireNonNull(listener, "listener");
    this.streams = new KafkaStreams(topology, props);
    streams.setStateListener(this::onStateChange);
    streams.setUncaughtExceptionHandler(this::onUncaughtException);
  }

  /** Starts processing. */
  public void start() {
    streams.start();
  }

  /** The client, for metrics and interactive queries; the runner keeps its lifecycle. */
  public KafkaStreams streams() {
    return streams;
  }

  /** The client's state now. */
  public KafkaStreams.State state() {
    return streams.state();
  }

  /** The first stream-thread failure, if any. */
  public Optional<Throwable> failure() {
    return Optional.ofNullable(failure.get());
  }

  /**
   * Blocks until the client stops by itself (a fatal error) or {@link #stop} is called.
   *
   * @return the failure that stopped it, or null after an orderly close
   * @throws InterruptedException if interrupted while waiting
   */
  public Throwable awaitTermination() throws InterruptedException {
    terminated.await();
    Throwable e = failure.get();
    if (e == null && !closing) {
      e = new IllegalStateException(name + ": Kafka Streams stopped: " + streams.state());
    }
    return e;
  }

  /**
   * Closes the client: leaves the group, so that its tasks move to the other instances at once
   * instead of after {@code session.timeout.ms} (45 s by default) with those partitions standing
   * still, and waits at most the close timeout. Idempotent; safe from a shutdown hook.
   *
   * @return whether the client closed within the timeout (also true when already stopped)
   */
  public synchronized boolean stop() {
    if (closed) {
      return true;
    }
    closed = true;
    closing = true;
    stopping.countDown();
    // KafkaStreams.close waits on the stream threads; an interrupt would cut that wait short.
    boolean interrupted = Thread.interrupted();
    try {
      LOG.info("{}: closing Kafka Streams (waiting at most {})", name, closeTimeout);
      long t0 = System.nanoTime();
      boolean inTime =
          streams.close(
              CloseOptions.timeout(closeTimeout)
                  .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
      if (inTime) {
        LOG.info(
            "{}: Kafka Streams closed in {} ms",
            name,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
      } else {
        LOG.warn(
            "{}: Kafka Streams did not close within {}; stream threads may still be running."
                + " Uncommitted input will be processed again after a restart.",
            name,
            closeTimeout);
      }
      return inTime;
    } finally {
      terminated.countDown();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** As {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  private void onStateChange(KafkaStreams.State newState, KafkaStreams.State oldState) {
    LOG.info("{}: Kafka Streams state {} -> {}", name, oldState, newState);
    if (newState == KafkaStreams.State.ERROR
        || (newState == KafkaStreams.State.NOT_RUNNING && !closing)) {
      terminated.countDown();
    }
    listener.onChange(newState, oldState);
  }

  private StreamThreadExceptionResponse onUncaughtException(Throwable e) {
    String thread = Thread.currentThread().getName();
    StreamThreadFailurePolicy.Decision decision = failurePolicy.decide(e, System.nanoTime());
    if (decision instanceof StreamThreadFailurePolicy.Decision.Replace replace) {
      StreamThreadFailurePolicy.Settings s = failurePolicy.settings();
      LOG.warn(
          "{}: stream thread {} failed because the Schema Registry could not be reached ({});"
              + " replacing the thread in {} (replacement {} of at most {} within {}); its"
              + " uncommitted records will be read again",
          name,
          thread,
          registryCause(e),
          replace.backoff(),
          replace.replacement(),
          s.maxReplacements(),
          s.window());
      // The wait runs on the failed thread, before Kafka Streams starts its replacement; stop()
      // ends it, and Kafka Streams then replaces nothing on a client that is shutting down.
      boolean interrupted = false;
      try {
        stopping.await(replace.backoff().toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        interrupted = true;
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
    String reason = ((StreamThreadFailurePolicy.Decision.Shutdown) decision).reason();
    failure.compareAndSet(null, e);
    LOG.error(
        "{}: stream thread {} failed; shutting this client down ({})", name, thread, reason, e);
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }

  private static String registryCause(Throwable e) {
    Throwable r = StreamThreadFailurePolicy.registryFailure(e);
    return r == null ? e.toString() : r.getMessage();
  }
}
