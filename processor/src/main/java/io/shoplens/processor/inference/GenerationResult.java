package io.shoplens.processor.inference;

import java.util.List;

/**
 * What the engine produced for one request.
 *
 * <p>{@code text} is Hugging Face's {@code batch_decode(ids, skip_special_tokens=True)[0].strip()}
 * of the generated ids (special tokens dropped, leading and trailing whitespace removed as Python's
 * {@code str.strip} does). {@code tokenIds} are the generated ids only (not the prompt), ending
 * with the stop token when {@code finishReason} is {@link FinishReason#STOP}, exactly as Hugging
 * Face's {@code generate()} returns them after the prompt.
 *
 * @param requestId the request's id
 * @param modelVersion model version of the bundle that produced it
 * @param text decoded text of the best sequence
 * @param tokenIds generated token ids of the best sequence
 * @param finishReason why the best sequence ended
 * @param promptTokens prompt length in tokens (image tokens included, padding excluded)
 * @param generatedTokens {@code tokenIds.length}
 * @param score beam search: the best sequence's length-penalised log probability; otherwise NaN
 * @param alternatives the other returned sequences (beam search or several samples), best first
 * @param timings time per stage
 * @param visionCacheHit whether the image's query embeddings came from the cache
 */
public record GenerationResult(
    String requestId,
    String modelVersion,
    String text,
    long[] tokenIds,
    FinishReason finishReason,
    int promptTokens,
    int generatedTokens,
    float score,
    List<Sequence> alternatives,
    StageTimings timings,
    boolean visionCacheHit) {

  public GenerationResult {
    alternatives = List.copyOf(alternatives);
  }

  /**
   * One returned sequence.
   *
   * @param text decoded and stripped text
   * @param tokenIds generated token ids
   * @param finishReason why it ended
   * @param score beam score (length-penalised log probability), or NaN
   */
  public record Sequence(String text, long[] tokenIds, FinishReason finishReason, float score) {}
}
