package io.shoplens.processor.inference.generation;

/**
 * Rewrites one row of next-token scores in place before a token is chosen, like Hugging Face's
 * {@code LogitsProcessor}s.
 */
@FunctionalInterface
public interface LogitsProcessor {
  /**
   * @param scores one row of scores, length V; modified in place
   * @param sequence the ids Hugging Face's {@code input_ids} holds for this row at this step: for a
   *     decoder-only model the prompt (image placeholder tokens included) then the tokens generated
   *     so far; for an encoder-decoder model the decoder start token then the generated tokens. Not
   *     modified.
   * @param generated tokens this row has generated so far (the last {@code generated} ids of {@code
   *     sequence})
   */
  void process(float[] scores, long[] sequence, int generated);
}
