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
    return (scores, sequence, generated) -> {
      if (generated < min) {
        for (int id : stops) {
          scores[id] = Float.NEGATIVE_INFINITY;
        }
      }
    };
  }

  /**
   * {@code RepetitionPenaltyLogitsProcessor}: the score of every id present in the sequence so far
   * (counted once however often it occurs) is divided by {@code penalty} when positive and
   * multiplied by it otherwise, in float32. Which ids make up "the sequence so far" is the
   * generator's to give (see {@link LogitsProcessor#process}); Hugging Face's BLIP-2 OPT passes the
   * prompt ids, image placeholders included, so they are penalised too.
   */
  public static LogitsProcessor repetitionPenalty(double penalty) {
    float p = (float) penalty;
    return (scores, sequence, generated) -> {
      // Gather every id's score first, then scatter the penalised values, as Hugging Face does:
      // an id present several times is penalised once, from its original score.
      float[] gathered = new float[sequence.length];
      for (int j = 0; j < sequence.length; j++) {
        long id = sequence[j];
        if (id < 0 || id >= scores.length) {
          throw new IllegalArgumentException(
              "sequence id " + id + " is outside the vocabulary [0, " + scores.length + ")");
        }
        gathered[j] = scores[(int) id];
      }
      for (int j = 0; j < sequence.length; j++) {
        float s = gathered[j];
        scores[(int) sequence[j]] = s < 0 ? s * p : s / p;
      }
    };
  }

  /** {@code TemperatureLogitsWarper}: divides scores by the temperature (in float32). */
  public static LogitsProcessor temperature(double temperature) {
    float t = (float) temperature;
    return (scores, sequence, generated) -> {
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
    return (scores, sequence, generated) -> {
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
    return (scores, sequence, generated) -> {
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
   * repetition penalty, min-new-tokens, then (sampling only) temperature, top-k, top-p. For beam
   * search they act on log-probabilities, otherwise on raw logits.
   */
  public static LogitsProcessor forOptions(DecodingOptions options, List<Integer> stopTokenIds) {
    List<LogitsProcessor> chain = new ArrayList<>();
    if (options.repetitionPenalty() != 1.0) {
      chain.add(repetitionPenalty(options.repetitionPenalty()));
    }
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
    return (scores, sequence, generated) -> {
      for (LogitsProcessor p : copy) {
        p.process(scores, sequence, generated);
      }
    };
  }
}
