package io.shoplens.processor.inference.generation;

import java.util.random.RandomGenerator;

/** Chooses the next token from a row of processed scores. */
@FunctionalInterface
public interface TokenSampler {
  /**
   * @param scores processed scores, length V ({@code -Infinity} = forbidden)
   * @param random the request's own random source (unused by deterministic samplers)
   * @return the chosen token id
   */
  int sample(float[] scores, RandomGenerator random);

  /** Greedy: the first index of the highest score, as {@code torch.argmax}. */
  static TokenSampler argmax() {
    return (scores, random) -> Logits.argmax(scores);
  }

  /**
   * Multinomial sampling from {@code softmax(scores)}, as {@code torch.multinomial(softmax(s), 1)}
   * (not bit-identical to torch's generator: reproducibility is per seed within this engine).
   */
  static TokenSampler multinomial() {
    return (scores, random) -> {
      double max = Double.NEGATIVE_INFINITY;
      for (float s : scores) {
        max = Math.max(max, s);
      }
      double[] weights = new double[scores.length];
      double total = 0;
      for (int i = 0; i < scores.length; i++) {
        double w = scores[i] == Float.NEGATIVE_INFINITY ? 0 : Math.exp(scores[i] - max);
        weights[i] = w;
        total += w;
      }
      double u = random.nextDouble() * total;
      double cumulative = 0;
      int last = -1;
      for (int i = 0; i < weights.length; i++) {
        if (weights[i] > 0) {
          cumulative += weights[i];
          last = i;
          if (u < cumulative) {
            return i;
          }
        }
      }
      return last; // rounding left u at the very end of the distribution
    };
  }
}
