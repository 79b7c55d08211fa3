package io.shoplens.processor.inference.generation;

/**
 * One request in a decoding batch, OPT's or T5's: its caller's tag, its sequence group (the rows of
 * its beams or samples) and when its prefill ended, so that its result reports prefill and decode
 * time apart.
 */
final class BatchMember<T> {
  final T tag;
  final SequenceGroup group;
  final long prefillNanos;
  final long prefillEnd;

  BatchMember(T tag, SequenceGroup group, long prefillNanos, long prefillEnd) {
    this.tag = tag;
    this.group = group;
    this.prefillNanos = prefillNanos;
    this.prefillEnd = prefillEnd;
  }

  /** Tokens it may still generate. */
  int remaining() {
    return group.options.maxNewTokens() - group.generated;
  }

  /** Its result, finished at {@code now} (nanoTime). */
  RunningBatch.Finished<T> finished(long now) {
    return new RunningBatch.Finished<>(tag, group.results(), prefillNanos, now - prefillEnd);
  }
}
