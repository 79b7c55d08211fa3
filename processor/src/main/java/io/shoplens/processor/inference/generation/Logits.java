package io.shoplens.processor.inference.generation;

import java.util.Arrays;
import java.util.PriorityQueue;

/** Row operations on scores, in float32 as PyTorch computes them. */
public final class Logits {
  private Logits() {}

  /** Index of the first maximum. */
  public static int argmax(float[] scores) {
    int best = 0;
    for (int i = 1; i < scores.length; i++) {
      if (scores[i] > scores[best]) {
        best = i;
      }
    }
    return best;
  }

  /** In-place {@code log_softmax}. */
  public static void logSoftmax(float[] scores) {
    float max = Float.NEGATIVE_INFINITY;
    for (float s : scores) {
      max = Math.max(max, s);
    }
    double sum = 0;
    for (float s : scores) {
      sum += Math.exp(s - max);
    }
    float logSum = (float) Math.log(sum);
    for (int i = 0; i < scores.length; i++) {
      scores[i] = (scores[i] - max) - logSum;
    }
  }

  /** Softmax probabilities in float32. */
  public static float[] softmax(float[] scores) {
    float max = Float.NEGATIVE_INFINITY;
    for (float s : scores) {
      max = Math.max(max, s);
    }
    double sum = 0;
    float[] out = new float[scores.length];
    for (int i = 0; i < scores.length; i++) {
      out[i] = (float) Math.exp(scores[i] - max);
      sum += out[i];
    }
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (out[i] / sum);
    }
    return out;
  }

  /** The k-th largest value ({@code k >= 1}). */
  public static float kthLargest(float[] scores, int k) {
    if (k >= scores.length) {
      float min = Float.POSITIVE_INFINITY;
      for (float s : scores) {
        min = Math.min(min, s);
      }
      return min;
    }
    PriorityQueue<Float> heap = new PriorityQueue<>(k);
    for (float s : scores) {
      if (heap.size() < k) {
        heap.add(s);
      } else if (s > heap.peek()) {
        heap.poll();
        heap.add(s);
      }
    }
    return heap.peek();
  }

  /**
   * Indices of the {@code k} largest values, largest first; ties go to the lower index.
   *
   * @param values the values
   * @param k how many
   */
  public static int[] topK(float[] values, int k) {
    Integer[] order;
    if (k * 8 < values.length) {
      // Partial selection keeps large vocabularies (num_beams * V candidates) cheap.
      PriorityQueue<Integer> heap =
          new PriorityQueue<>(
              k,
              (a, b) -> {
                int c = Float.compare(values[a], values[b]);
                return c != 0 ? c : Integer.compare(b, a);
              });
      for (int i = 0; i < values.length; i++) {
        if (heap.size() < k) {
          heap.add(i);
        } else {
          int worst = heap.peek();
          if (values[i] > values[worst]) {
            heap.poll();
            heap.add(i);
          }
        }
      }
      order = heap.toArray(new Integer[0]);
    } else {
      order = new Integer[values.length];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
    }
    Arrays.sort(
        order,
        (a, b) -> {
          int c = Float.compare(values[b], values[a]);
          return c != 0 ? c : Integer.compare(a, b);
        });
    int[] out = new int[Math.min(k, order.length)];
    for (int i = 0; i < out.length; i++) {
      out[i] = order[i];
    }
    return out;
  }
}
