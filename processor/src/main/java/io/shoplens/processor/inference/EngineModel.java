package io.shoplens.processor.inference;

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

  /** One result per request, in the order given. */
  List<GenerationResult> decode(List<Blip2Model.Encoded> batch);

  @Override
  void close();
}
