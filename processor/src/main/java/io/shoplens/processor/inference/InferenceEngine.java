package io.shoplens.processor.inference;

import java.util.concurrent.CompletableFuture;

/**
 * Image-to-text inference behind a small interface: a request in, a future result out. The Kafka
 * topology depends only on this, so tests can give it a fast fake.
 *
 * <p>Implementations are thread-safe. {@link #submit} never blocks for the inference itself; it may
 * block for queue space (see {@link EngineConfig.Backpressure}).
 */
public interface InferenceEngine extends AutoCloseable {

  /**
   * Queues a request.
   *
   * @param request what to generate
   * @return a future completed with the result, or exceptionally with {@link
   *     RequestRejectedException} (queue full or engine closed), {@link InferenceException} (the
   *     model failed; message names graph and inputs) or {@link IllegalArgumentException} (a bad
   *     image or prompt)
   */
  CompletableFuture<GenerationResult> submit(GenerationRequest request);

  /**
   * Queues an image embedding: the image's query embeddings from the vision graph, mean-pooled over
   * the query tokens and L2-normalised (see {@link ImageEmbeddings#meanPoolNormalized}), so that
   * the cosine similarity of two images is the dot product of their embeddings. The vision graph
   * runs at most once per distinct image and model version while the image stays in the engine's
   * vision cache: embedding an image that was just captioned (or captioning one just embedded)
   * reuses its query embeddings.
   *
   * <p>An engine that cannot embed images completes exceptionally with {@link
   * UnsupportedOperationException}; callers treat that as permanent.
   *
   * @param requestId caller's id, named in error messages
   * @param image encoded image bytes (JPEG, PNG, ...)
   * @return a future completed with an {@code [H]} vector (H = the language model's hidden size),
   *     or exceptionally as {@link #submit}
   */
  CompletableFuture<float[]> embed(String requestId, byte[] image);

  /** Counters and gauges so far. */
  EngineStats stats();

  /** Model version stamped on every result. */
  String modelVersion();

  /**
   * Stops accepting requests, finishes or fails those in flight (failing queued ones with {@link
   * RequestRejectedException}), and releases the model.
   */
  @Override
  void close();
}
