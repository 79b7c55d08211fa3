package io.shoplens.processor.inference.generation;

/**
 * Rewrites one row of next-token scores in place before a token is chosen, like Hugging Face's
 * {@code LogitsProcessor}s.
 */
@FunctionalInterface
public interface LogitsProcessor {
  /**
   * @param scores one row of scores, length V; modified in place
   * @param generated tokens this row has generated so far
   */
  void process(float[] scores, int generated);
}
