package io.shoplens.processor.topology.jobs;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Bounds the engine requests in flight across every task and stream thread of one application
 * instance. A permit is taken per engine request when a job is submitted and given back when the
 * job's futures complete, whether or not its result has been forwarded yet: so a stream thread
 * waiting for room never waits on another stream thread's punctuator.
 */
public final class InFlightLimiter {
  private final int capacity;
  private final Semaphore permits;

  public InFlightLimiter(int capacity) {
    this.capacity = capacity;
    this.permits = new Semaphore(capacity);
  }

  public boolean tryAcquire(int n) {
    return permits.tryAcquire(n);
  }

  /** Waits at most {@code slice}; false also when interrupted (the flag is restored). */
  public boolean tryAcquire(int n, Duration slice) {
    try {
      return permits.tryAcquire(n, slice.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public void release(int n) {
    permits.release(n);
  }

  /** Requests in flight now. */
  public int inFlight() {
    return capacity - permits.availablePermits();
  }

  public int capacity() {
    return capacity;
  }
}
