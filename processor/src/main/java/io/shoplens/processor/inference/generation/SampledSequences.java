package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Greedy decoding or sampling: each row is an independent sequence. A finished row keeps receiving
 * the pad token, as Hugging Face's {@code _sample} does, until the whole group is done.
 */
final class SampledSequences extends SequenceGroup {
  private final LogitsProcessor processors;
  private final TokenSampler sampler;
  private final RandomGenerator random;
  private final long[][] tokens;
  private final FinishReason[] reasons;
  private final int[] lengths;

  SampledSequences(
      int firstRow,
      DecodingOptions options,
      long[] prompt,
      LogitsProcessor processors,
      TokenSampler sampler,
      List<Integer> stops,
      long pad,
      RandomGenerator random) {
    super(firstRow, options.rows(), options, prompt, stops, pad);
    this.processors = processors;
    this.sampler = sampler;
    this.random = random;
    this.tokens = new long[rows][options.maxNewTokens()];
    this.reasons = new FinishReason[rows];
    this.lengths = new int[rows];
  }

  @Override
  void step(float[] logits, int vocab, long[] nextTokens, int[] sourceRows) {
    boolean allDone = true;
    for (int j = 0; j < rows; j++) {
      int row = firstRow + j;
      sourceRows[row] = row;
      if (reasons[j] != null) {
        nextTokens[row] = pad;
        continue;
      }
      float[] scores = Arrays.copyOfRange(logits, row * vocab, (row + 1) * vocab);
      processors.process(scores, sequence(tokens[j], generated), generated);
      int token = sampler.sample(scores, random);
      tokens[j][generated] = token;
      lengths[j] = generated + 1;
      nextTokens[row] = token;
      if (isStop(token)) {
        reasons[j] = FinishReason.STOP;
      } else if (generated + 1 >= options.maxNewTokens()) {
        reasons[j] = FinishReason.LENGTH;
      }
      allDone &= reasons[j] != null;
    }
    generated++;
    if (allDone) {
      markDone();
    }
  }

  @Override
  List<Hypothesis> results() {
    List<Hypothesis> out = new ArrayList<>();
    for (int j = 0; j < rows; j++) {
      FinishReason reason = reasons[j] == null ? FinishReason.LENGTH : reasons[j];
      out.add(new Hypothesis(Arrays.copyOf(tokens[j], lengths[j]), reason, Float.NaN));
    }
    return out;
  }
}
