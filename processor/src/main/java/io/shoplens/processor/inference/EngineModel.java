package io.shoplens.processor.inference;

import io.shoplens.processor.inference.generation.DecodingBatch;
import io.shoplens.processor.inference.generation.PrefixStore;
import io.shoplens.processor.inference.generation.RunningBatch;
import java.util.List;

/**
 * What {@link BatchingInferenceEngine} needs from a model: {@link Blip2Model} (BLIP-2 OPT, a
 * decoder-only language model) and {@link T5Model} (BLIP-2 T5, encoder-decoder), chosen by the
 * bundle's {@code architecture} ({@link GenerationBundles#open}). Tests decorate them to inject
 * failures and stalls.
 *
 * <p>{@link Blip2Model.Prepared} and {@link Blip2Model.Encoded} carry a request through the engine
 * for either model: prompt ids (image tokens first), the image's cache key, its query embeddings.
 */
interface EngineModel extends AutoCloseable {
  String modelVersion();

  /** The bundle's {@code num_query_tokens}: the Q of the vision graph's [B, Q, H] output. */
  int numQueryTokens();

  /**
   * Whether the KV of an image's query positions depends on the image alone, so that an image
   * prefix computed once serves every prompt on that image (true for a causal decoder such as
   * OPT's; false for T5, whose bidirectional encoder lets the query positions see the prompt).
   */
  boolean reusesImagePrefixes();

  Blip2Model.Prepared prepare(GenerationRequest request);

  /** The explicit image step; throws for an image that cannot be decoded. */
  float[] decodeImage(Blip2Model.Prepared prepared);

  List<float[]> encodeImages(List<float[]> pixels);

  /**
   * Whether {@link #encodeImages(List, List, VisionTap)} can hand the vision tower's output to a
   * tap: the bundle's vision graph exposes it (manifest {@code vision_tower}).
   */
  default boolean exposesTower() {
    return false;
  }

  /**
   * As {@link #encodeImages(List)}, in the same single vision pass also handing the tower's output
   * to {@code tap} ({@link #exposesTower} models; others ignore the tap).
   *
   * @param keys the images' vision cache keys, in the order of {@code pixels}
   */
  default List<float[]> encodeImages(List<float[]> pixels, List<String> keys, VisionTap tap) {
    return encodeImages(pixels);
  }

  /**
   * A decoding batch sized by the engine's batch size and KV budget, reusing image prefixes from
   * {@code prefixes} (null: none; a model to which prefix reuse does not apply ignores it).
   */
  <T> DecodingBatch<T> newBatch(EngineConfig config, PrefixStore prefixes);

  /**
   * Starts joiners in a batch (see {@link DecodingBatch#join}); the engine's seam around the batch,
   * where a test can hold or observe a step.
   */
  default <T> List<RunningBatch.Finished<T>> join(
      DecodingBatch<T> batch, List<RunningBatch.Input<T>> joiners) {
    return batch.join(joiners);
  }

  /** One decoder step of a batch (see {@link DecodingBatch#step}). */
  default <T> List<RunningBatch.Finished<T>> step(DecodingBatch<T> batch) {
    return batch.step();
  }

  /** The result of a request that finished decoding. */
  GenerationResult result(Blip2Model.Encoded encoded, RunningBatch.Finished<?> finished);

  @Override
  void close();
}
