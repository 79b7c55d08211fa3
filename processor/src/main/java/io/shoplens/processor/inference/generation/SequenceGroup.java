package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import java.util.Arrays;
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
  // What Hugging Face's input_ids holds before the generated tokens (see LogitsProcessor).
  private final long[] prompt;
  int generated;
  long doneAtNanos;
  private boolean done;

  SequenceGroup(
      int firstRow,
      int rows,
      DecodingOptions options,
      long[] prompt,
      List<Integer> stops,
      long pad) {
    this.firstRow = firstRow;
    this.prompt = prompt;
    this.rows = rows;
    this.options = options;
    this.stops = stops.stream().mapToInt(Integer::intValue).toArray();
    this.pad = pad;
  }

  /**
   * The group for one request.
   *
   * @param prompt the ids that precede the generated ones in Hugging Face's {@code input_ids}: for
   *     a decoder-only model the unpadded prompt (image placeholder tokens, bos and text), for an
   *     encoder-decoder model the decoder start token. The repetition penalty counts them; a
   *     request's own prompt only, never the padding of a batch it shares, so that what else is in
   *     the batch never changes what it generates.
   */
  static SequenceGroup create(
      int firstRow,
      DecodingOptions options,
      long[] prompt,
      List<Integer> stops,
      long pad,
      long seed) {
    LogitsProcessor processors = LogitsProcessors.forOptions(options, stops);
    return switch (options.strategy()) {
      case BEAM -> new BeamSearchGroup(firstRow, options, prompt, processors, stops, pad);
      case GREEDY ->
          new SampledSequences(
              firstRow, options, prompt, processors, TokenSampler.argmax(), stops, pad, null);
      case SAMPLE ->
          new SampledSequences(
              firstRow,
              options,
              prompt,
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

  /** The prompt then the first {@code count} of {@code tokens}: the row's sequence so far. */
  final long[] sequence(long[] tokens, int count) {
    long[] out = Arrays.copyOf(prompt, prompt.length + count);
    System.arraycopy(tokens, 0, out, prompt.length, count);
    return out;
  }

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
