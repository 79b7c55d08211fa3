package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Hugging Face's logits processors and warpers that this engine applies, with their exact semantics
 * ({@code transformers/generation/logits_process.py}).
 */
public final class LogitsProcessors {
  private LogitsProcessors() {}

  /**
   * {@code MinNewTokensLengthLogitsProcessor}: stop tokens get {@code -inf} until {@code min}
   * tokens were generated.
   */
  public static LogitsProcessor minNewTokens(int min, List<Integer> stopTokenIds) {
    int[] stops = stopTokenIds.stream().mapToInt(Integer::intValue).toArray();
    return (scores, generated) -> {
      if (generated < min) {
        for (int id : stops) {
          scores[id] = Float.NEGATIVE_INFINITY;
        }
      }
    };
  }

  /** {@code TemperatureLogitsWarper}: divides scores by the temperature (in float32). */
  public static LogitsProcessor temperature(double temperature) {
    float t = (float) temperature;
    return (scores, generated) -> {
      for (int i = 0; i < scores.length; i++) {
        scores[i] = scores[i] / t;
      }
    };
  }

  /**
   * {@code TopKLogitsWarper}: scores below the k-th largest become {@code -inf} (ties with the k-th
   * are kept, as in Hugging Face).
   */
  public static LogitsProcessor topK(int topK, int minTokensToKeep) {
    int k = Math.max(topK, minTokensToKeep);
    return (scores, generated) -> {
      float threshold = Logits.kthLargest(scores, Math.min(k, scores.length));
      for (int i = 0; i < scores.length; i++) {
        if (scores[i] < threshold) {
          scores[i] = Float.NEGATIVE_INFINITY;
        }
      }
    };
  }

  /**
   * {@code TopPLogitsWarper}: sorts ascending, removes tokens whose cumulative probability is at
   * most {@code 1 - topP}, always keeping the {@code minTokensToKeep} most likely.
   */
  public static LogitsProcessor topP(double topP, int minTokensToKeep) {
    float threshold = (float) (1 - topP);
    return (scores, generated) -> {
      float[] probs = Logits.softmax(scores);
      Integer[] order = new Integer[scores.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Float.compare(scores[a], scores[b]));
      double cumulative = 0; // torch's CPU cumsum accumulates float32 in double
      int keepFrom = order.length - minTokensToKeep;
      boolean[] remove = new boolean[order.length];
      for (int i = 0; i < order.length; i++) {
        cumulative += probs[order[i]];
        remove[i] = (float) cumulative <= threshold && i < keepFrom;
      }
      for (int i = 0; i < order.length; i++) {
        if (remove[i]) {
          scores[order[i]] = Float.NEGATIVE_INFINITY;
        }
      }
    };
  }

  /**
   * The processors Hugging Face's {@code generate()} applies for these options, in its order:
   * min-new-tokens, then (sampling only) temperature, top-k, top-p. For beam search they act on
   * log-probabilities, otherwise on raw logits.
   */
  public static LogitsProcessor forOptions(DecodingOptions options, List<Integer> stopTokenIds) {
    List<LogitsProcessor> chain = new ArrayList<>();
    if (options.minNewTokens() > 0) {
      chain.add(minNewTokens(options.minNewTokens(), stopTokenIds));
    }
    if (options.strategy() == DecodingOptions.Strategy.SAMPLE) {
      int minTokensToKeep = 1;
      if (options.temperature() != 1.0) {
        chain.add(temperature(options.temperature()));
      }
      if (options.topK() != 0) {
        chain.add(topK(options.topK(), minTokensToKeep));
      }
      if (options.topP() < 1.0) {
        chain.add(topP(options.topP(), minTokensToKeep));
      }
    }
    return chain(chain);
  }

  /** Applies processors in order. */
  public static LogitsProcessor chain(List<LogitsProcessor> processors) {
    List<LogitsProcessor> copy = List.copyOf(processors);
    return (scores, generated) -> {
      for (LogitsProcessor p : copy) {
        p.process(scores, generated);
      }
    };
  }
}
