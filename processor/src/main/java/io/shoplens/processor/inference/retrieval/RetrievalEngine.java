package io.shoplens.processor.inference.retrieval;

import java.util.concurrent.CompletableFuture;

/**
 * Image and text features of a retrieval model behind a small asynchronous interface, so that the
 * topology depends on this alone and its tests can use a fast fake.
 *
 * <p>Implementations are thread-safe and never block the caller for the model itself.
 */
public interface RetrievalEngine extends AutoCloseable {

  /** The bundle's {@code model_id}, reported in every output. */
  String modelId();

  /** The bundle's {@code model_version}: every feature computed here belongs to it. */
  String modelVersion();

  /** D, the length of every text feature and image query vector. */
  int embedDim();

  /**
   * Queues an image.
   *
   * @param requestId caller's id, named in error messages
   * @param image encoded image bytes (JPEG, PNG, ...)
   * @return its Q unit query vectors of D floats; or exceptionally with {@link
   *     io.shoplens.processor.inference.image.ImageDecodeException} (not an image), {@link
   *     io.shoplens.processor.inference.InferenceException} (the model failed) or {@link
   *     io.shoplens.processor.inference.RequestRejectedException} (closed)
   */
  CompletableFuture<ImageFeatures> imageFeatures(String requestId, byte[] image);

  /**
   * Queues a text.
   *
   * @param requestId caller's id, named in error messages
   * @param text the text; longer texts are truncated to the model's {@code max_text_length} tokens
   *     as Hugging Face truncates them
   * @return its D-float unit text feature, or exceptionally as {@link #imageFeatures}
   */
  CompletableFuture<float[]> textFeatures(String requestId, String text);

  /** Stops accepting requests and releases the model; requests still queued are rejected. */
  /**
   * Queues an uploaded image, one that the generation engine also encodes (its caption, questions):
   * an engine whose vision tower is shared with the generation model takes its features from that
   * pass instead of running a tower of its own ({@link VisionSharing}). Same results and failures
   * as {@link #imageFeatures}, which this is for engines that share nothing.
   */
  default CompletableFuture<ImageFeatures> uploadImageFeatures(String requestId, byte[] image) {
    return imageFeatures(requestId, image);
  }

  @Override
  void close();
}
