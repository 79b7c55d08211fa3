package io.shoplens.processor.topology.jobs;

import io.shoplens.events.DeadLetter;
import java.util.concurrent.CompletableFuture;

/**
 * A processor's domain, as {@link AsyncJobs} calls it: how a job starts, and what its result or its
 * failure becomes. Every method is called on the stream thread.
 *
 * @param <J> the job
 * @param <R> what a finished job yields
 */
public interface JobWork<J extends AsyncJob<J>, R> {

  /**
   * Starts a job: reads what it needs (stores, its input record) and hands it to the engine. May
   * throw, or return a future that completes (on any thread) exceptionally; either way the failure
   * goes through {@link FailurePolicy}.
   */
  CompletableFuture<R> start(J job);

  /**
   * The engine requests one start of {@code job} makes: its share of the in-flight bound. One,
   * unless the domain's jobs make several (an upload's caption and attribute prompts).
   */
  default int weight(J job) {
    return 1;
  }

  /** Forwards what a finished job yields; the job is deleted in the same transaction. */
  void succeeded(J job, R result, long now);

  /**
   * Forwards the dead letter of a job that failed for good (and whatever else the domain makes of
   * the failure); the job is deleted in the same transaction.
   */
  void failed(J job, DeadLetter letter, Throwable error, long now);
}
