package io.shoplens.processor.inference;

import io.shoplens.processor.inference.generation.PrefixStore;
import io.shoplens.processor.inference.generation.RunningBatch;
import java.util.List;

/**
 * What {@link BatchingInferenceEngine} needs from a model; {@link Blip2Model} is the one
 * implementation (tests decorate it to inject failures and stalls).
 */
interface EngineModel extends AutoCloseable {
  String modelVersion();

  /** The bundle's {@code num_query_tokens}: the Q of the vision graph's [B, Q, H] output. */
  int numQueryTokens();

  Blip2Model.Prepared prepare(GenerationRequest request);

  /** The explicit image step; throws for an image that cannot be decoded. */
  float[] decodeImage(Blip2Model.Prepared prepared);

  List<float[]> encodeImages(List<float[]> pixels);

  /**
   * A running batch sized by the engine's batch size and KV budget, reusing image prefixes from
   * {@code prefixes} (null: none).
   */
  <T> RunningBatch<T> newBatch(EngineConfig config, PrefixStore prefixes);

  /** Prefills joiners into a running batch (see {@link RunningBatch#join}). */
  <T> List<RunningBatch.Finished<T>> join(
      RunningBatch<T> batch, List<RunningBatch.Input<T>> joiners);

  /** One decoder step of a running batch (see {@link RunningBatch#step}). */
  <T> List<RunningBatch.Finished<T>> step(RunningBatch<T> batch);

  /** The result of a request that finished decoding. */
  GenerationResult result(Blip2Model.Encoded encoded, RunningBatch.Finished<?> finished);

  @Override
  void close();
}
