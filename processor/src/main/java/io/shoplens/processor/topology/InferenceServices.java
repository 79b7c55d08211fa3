package io.shoplens.processor.topology;

import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import java.util.Objects;

/**
 * What the topology's processors call off the stream thread, shared by all tasks of an instance and
 * only called once the topology runs.
 *
 * @param engine the generation engine: captions, answers, and image embeddings without a retrieval
 *     model
 * @param retrieval the retrieval model; null when there is none
 * @param resolver turns image references into bytes
 */
public record InferenceServices(
    InferenceEngine engine, RetrievalEngine retrieval, ImageResolver resolver) {
  public InferenceServices {
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(resolver, "resolver");
  }

  /** The version of the image embeddings made: the retrieval model's, else the engine's. */
  public String embeddingVersion() {
    return retrieval == null ? engine.modelVersion() : retrieval.modelVersion();
  }
}
