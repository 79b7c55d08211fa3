package io.shoplens.processor.inference;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The states a request goes through inside {@link BatchingInferenceEngine}: queued ({@link
 * Pending}), prepared ({@link Admitted}), then ready to decode ({@link Decodable}). Kept apart from
 * the engine's worker loop, which only moves them from one stage to the next.
 */
final class EngineRequests {
  private EngineRequests() {}

  /** A queued request: a generation or an image embedding, each with its own future. */
  sealed interface Pending {
    /** What the model prepares: the request itself, or the caption request an embedding uses. */
    GenerationRequest request();

    /** The future the request's outcome completes. */
    CompletableFuture<?> future();

    /** Completes the future exceptionally; false if it was already completed. */
    default boolean fail(Throwable e) {
      return future().completeExceptionally(e);
    }

    /**
     * The step after the vision stage: a generation goes on to decoding, an embedding is complete.
     *
     * @return what to decode, or empty once this request is complete
     */
    Optional<Decodable> encoded(Blip2Model.Encoded encoded, int numQueryTokens);
  }

  /** A request to decode. */
  record Generation(GenerationRequest request, CompletableFuture<GenerationResult> future)
      implements Pending {
    @Override
    public Optional<Decodable> encoded(Blip2Model.Encoded encoded, int numQueryTokens) {
      return Optional.of(new Decodable(this, encoded));
    }
  }

  /**
   * An image embedding: {@code request} is a caption request that is prepared and encoded but not
   * decoded.
   */
  record Embedding(GenerationRequest request, CompletableFuture<float[]> future)
      implements Pending {
    @Override
    public Optional<Decodable> encoded(Blip2Model.Encoded encoded, int numQueryTokens) {
      future.complete(ImageEmbeddings.meanPoolNormalized(encoded.queryEmbeds(), numQueryTokens));
      return Optional.empty();
    }
  }

  /**
   * One request on its way through a batch: prepared (prompt ids, image digest), then given its
   * image's query embeddings. Each stage returns a new record, so a request's state never lives in
   * a list aligned with others by index.
   *
   * @param pending the queued request and its future
   * @param prepared its prompt and image digest
   * @param preprocessNanos preprocessing time so far, image decoding included once done
   */
  record Admitted(Pending pending, Blip2Model.Prepared prepared, long preprocessNanos) {
    String imageSha256() {
      return prepared.imageSha256();
    }

    Admitted plusPreprocess(long nanos) {
      return new Admitted(pending, prepared, preprocessNanos + nanos);
    }

    Blip2Model.Encoded encoded(float[] queryEmbeds, long visionNanos, boolean hit) {
      return new Blip2Model.Encoded(prepared, queryEmbeds, preprocessNanos, visionNanos, hit);
    }
  }

  /** A generation request ready to decode, with the future its result completes. */
  record Decodable(Generation pending, Blip2Model.Encoded encoded) {}
}
