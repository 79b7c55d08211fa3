package io.shoplens.processor.topology.jobs;

import io.shoplens.processor.topology.Origin;

/**
 * A unit of off-thread work as {@link AsyncJobs} keeps it in its changelogged store: serializable
 * as a whole (the store's serde), identified by its store key, carrying the input record it came
 * from (for dead letters and lineage) and the failed tries so far.
 *
 * @param <J> the job type itself, so that {@link #withAttempts} returns it
 */
public interface AsyncJob<J extends AsyncJob<J>> {

  /** The store key: unique among the jobs of one task; its order is the resubmission order. */
  String id();

  /** The input record this job was made from, byte for byte. */
  Origin origin();

  /** Failed tries so far that count towards {@code maxAttempts}. */
  int attempts();

  /** This job with {@code attempts} failed tries. */
  J withAttempts(int attempts);

  /**
   * Jobs with the same non-null key run one after another, in the order they were accepted (a
   * conversation's turns: each prompt includes the answer before it); null, the default, runs
   * independently of every other job.
   */
  default String sequenceKey() {
    return null;
  }
}
