package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The rows one request occupies in a decoding batch, and how it picks their next tokens. Rows of
 * different groups never influence each other, so requests with different options share a batch.
 */
abstract class SequenceGroup {
  int firstRow;
  final int rows;
  final DecodingOptions options;
  final int[] stops;
  final long pad;
  int generated;
  long doneAtNanos;
  private boolean done;

  SequenceGroup(int firstRow, int rows, DecodingOptions options, List<Integer> stops, long pad) {
    this.firstRow = firstRow;
    this.rows = rows;
    this.options = options;
    this.stops = stops.stream().mapToInt(Integer::intValue).toArray();
    this.pad = pad;
  }

  static SequenceGroup create(
      int firstRow, DecodingOptions options, List<Integer> stops, long pad, long seed) {
    LogitsProcessor processors = LogitsProcessors.forOptions(options, stops);
    return switch (options.strategy()) {
      case BEAM -> new BeamSearchGroup(firstRow, options, processors, stops, pad);
      case GREEDY ->
          new SampledSequences(
              firstRow, options, processors, TokenSampler.argmax(), stops, pad, null);
      case SAMPLE ->
          new SampledSequences(
              firstRow,
              options,
              processors,
              TokenSampler.multinomial(),
              stops,
              pad,
              new SplittableRandom(seed));
    };
  }

  /**
   * Picks the next token of each row. Called only while the group is not done; the decoder pads the
   * rows of finished groups itself.
   *
   * @param logits [batch, V] last-position logits of the whole batch
   * @param vocab V
   * @param nextTokens receives this group's rows' next input ids
   * @param sourceRows receives, for this group's rows, the batch row whose KV cache each row
   *     continues (the row itself unless beams were re-ranked)
   */
  abstract void step(float[] logits, int vocab, long[] nextTokens, int[] sourceRows);

  /** Returned sequences, best first. */
  abstract List<Hypothesis> results();

  /** Whether {@code token} ends a sequence (any of the manifest's stop token ids). */
  final boolean isStop(long token) {
    for (int s : stops) {
      if (s == token) {
        return true;
      }
    }
    return false;
  }

  /** The group's rows moved in the batch (a running batch was compacted or rows joined). */
  final void moveTo(int newFirstRow) {
    firstRow = newFirstRow;
  }

  final boolean done() {
    return done;
  }

  final void markDone() {
    done = true;
  }
}
