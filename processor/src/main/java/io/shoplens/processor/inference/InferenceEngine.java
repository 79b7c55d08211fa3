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
