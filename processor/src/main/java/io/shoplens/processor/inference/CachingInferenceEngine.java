package io.shoplens.processor.inference;

import io.shoplens.processor.inference.image.ImageDigest;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Decorates an engine with a result cache, so that identical requests are computed once: a replay
 * re-reads many uploads of the same image and many identical questions (attribute prompts are the
 * same for every upload), and the engine's output is a pure function of the request and the model.
 *
 * <p>The key is (image SHA-256, prompt text and earlier turns, generation options, model version),
 * plus the seed for sampling requests only: greedy decoding and beam search do not depend on the
 * seed, so ignoring it lets requests with different ids share a result. Requests given as pixel
 * values instead of image bytes pass through uncached.
 *
 * <p>A request identical to one still running joins it instead of running again. Failed results are
 * not kept, so a retry runs the model again. The cache holds at most {@code maxEntries} results,
 * least recently used dropped first. A hit returns the stored result with the caller's {@code
 * requestId}; its timings are those of the run that computed it.
 */
public final class CachingInferenceEngine implements InferenceEngine {
  private final InferenceEngine delegate;
  private final Map<Key, CompletableFuture<GenerationResult>> cache;
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();
  private final AtomicLong bypassed = new AtomicLong();

  /**
   * @param delegate the engine that computes misses; closed with this one
   * @param maxEntries most results kept (at least 1)
   */
  public CachingInferenceEngine(InferenceEngine delegate, int maxEntries) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be >= 1, got " + maxEntries);
    }
    this.cache = new LruMap<>(maxEntries);
  }

  /**
   * The cache key of a request, or null when the request is not cached (pixel values).
   *
   * @param imageSha256 hex SHA-256 of the image bytes
   * @param prompt raw prompt, or null
   * @param question question, or null
   * @param history earlier turns
   * @param options generation options
   * @param seed the seed when it changes the output (sampling), else 0
   * @param modelVersion the engine's model version
   */
  record Key(
      String imageSha256,
      String prompt,
      String question,
      List<Turn> history,
      DecodingOptions options,
      long seed,
      String modelVersion) {}

  Key keyOf(GenerationRequest r) {
    if (r.image() == null) {
      return null;
    }
    long seed = r.options().strategy() == DecodingOptions.Strategy.SAMPLE ? r.seed() : 0L;
    return new Key(
        ImageDigest.sha256Hex(r.image()),
        r.prompt(),
        r.question(),
        r.history(),
        r.options(),
        seed,
        delegate.modelVersion());
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    Key key = keyOf(request);
    if (key == null) {
      bypassed.incrementAndGet();
      return delegate.submit(request);
    }
    CompletableFuture<GenerationResult> mine = new CompletableFuture<>();
    CompletableFuture<GenerationResult> existing;
    synchronized (cache) {
      existing = cache.putIfAbsent(key, mine);
    }
    if (existing != null) {
      hits.incrementAndGet();
      return existing.thenApply(r -> withRequestId(r, request.requestId()));
    }
    misses.incrementAndGet();
    CompletableFuture<GenerationResult> computed;
    try {
      computed = delegate.submit(request);
    } catch (RuntimeException e) {
      computed = CompletableFuture.failedFuture(e);
    }
    computed.whenComplete(
        (result, error) -> {
          if (error != null) {
            // Keep failures out: whoever retries must reach the model again.
            synchronized (cache) {
              cache.remove(key, mine);
            }
            mine.completeExceptionally(error);
          } else {
            mine.complete(result);
          }
        });
    return mine.thenApply(r -> withRequestId(r, request.requestId()));
  }

  private static GenerationResult withRequestId(GenerationResult r, String requestId) {
    if (r.requestId().equals(requestId)) {
      return r;
    }
    return new GenerationResult(
        requestId,
        r.modelVersion(),
        r.text(),
        r.tokenIds(),
        r.finishReason(),
        r.promptTokens(),
        r.generatedTokens(),
        r.score(),
        r.alternatives(),
        r.timings(),
        r.visionCacheHit());
  }

  @Override
  public CompletableFuture<float[]> embed(String requestId, byte[] image) {
    return delegate.embed(requestId, image);
  }

  /** Requests answered from the cache (or joined to an identical running one). */
  public long hits() {
    return hits.get();
  }

  /** Requests that went to the model. */
  public long misses() {
    return misses.get();
  }

  /** Requests not cacheable (pixel values), sent to the model as they are. */
  public long bypassed() {
    return bypassed.get();
  }

  /** Results held now. */
  public int size() {
    synchronized (cache) {
      return cache.size();
    }
  }

  @Override
  public EngineStats stats() {
    return delegate.stats();
  }

  @Override
  public String modelVersion() {
    return delegate.modelVersion();
  }

  @Override
  public void close() {
    delegate.close();
    synchronized (cache) {
      cache.clear();
    }
  }
}
