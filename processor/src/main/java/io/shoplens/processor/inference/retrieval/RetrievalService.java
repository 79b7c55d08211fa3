package io.shoplens.processor.inference.retrieval;

import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.image.ImageDigest;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A {@link RetrievalModel} run on a small pool of its own threads, one image or text per graph
 * call.
 *
 * <p>Why not batched: retrieval requests are one image per upload or catalog product and one text
 * per search, far fewer than generation's decode steps, and a single call of the vision graph is
 * what generation's engine does per image too. An image's features are kept by sha256 in a small
 * LRU cache, so that the answers about one upload (which show related products) and its caption job
 * run the vision graph once.
 */
public final class RetrievalService implements RetrievalEngine {
  private final RetrievalModel model;
  private final ExecutorService pool;
  private final Map<String, ImageFeatures> cache;
  private final int cacheSize;
  private volatile boolean closed;

  private RetrievalService(RetrievalModel model, int threads, int cacheSize) {
    this.model = model;
    this.cacheSize = cacheSize;
    this.cache = new LinkedHashMap<>(16, 0.75f, true);
    AtomicInteger n = new AtomicInteger();
    this.pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "shoplens-retrieval-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Opens the retrieval bundle in {@code bundle} (manifest and checksums verified).
   *
   * @param threads graph calls at once
   * @param cacheSize images whose features are kept; 0 disables the cache
   * @throws io.shoplens.processor.inference.bundle.BundleException for a bad bundle
   */
  public static RetrievalService open(
      Path bundle, EngineConfig engineConfig, int threads, int cacheSize) {
    if (threads < 1 || cacheSize < 0) {
      throw new IllegalArgumentException(
          "expected threads >= 1 and cacheSize >= 0, got " + threads + " and " + cacheSize);
    }
    return new RetrievalService(RetrievalModel.open(bundle, engineConfig), threads, cacheSize);
  }

  /** The model (for its manifest). */
  public RetrievalModel model() {
    return model;
  }

  @Override
  public String modelId() {
    return model.manifest().modelId();
  }

  @Override
  public String modelVersion() {
    return model.modelVersion();
  }

  @Override
  public int embedDim() {
    return model.embedDim();
  }

  @Override
  public CompletableFuture<ImageFeatures> imageFeatures(String requestId, byte[] image) {
    String key = ImageDigest.sha256Hex(image);
    ImageFeatures known = cached(key);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    return run(
        () -> {
          ImageFeatures f = model.encodeImages(List.of(image)).get(0).features();
          remember(key, f);
          return f;
        });
  }

  @Override
  public CompletableFuture<float[]> textFeatures(String requestId, String text) {
    return run(() -> model.textFeatures(List.of(text)).get(0));
  }

  @Override
  public void close() {
    closed = true;
    pool.shutdown();
    try {
      if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
        pool.shutdownNow();
      }
    } catch (InterruptedException e) {
      pool.shutdownNow();
      Thread.currentThread().interrupt();
    }
    model.close();
  }

  private <T> CompletableFuture<T> run(Supplier<T> work) {
    if (closed) {
      return CompletableFuture.failedFuture(
          new RequestRejectedException("the retrieval model is closed"));
    }
    try {
      return CompletableFuture.supplyAsync(work, pool);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new RequestRejectedException("the retrieval model is closed"));
    }
  }

  private ImageFeatures cached(String key) {
    if (cacheSize == 0) {
      return null;
    }
    synchronized (cache) {
      return cache.get(key);
    }
  }

  private void remember(String key, ImageFeatures f) {
    if (cacheSize == 0) {
      return;
    }
    synchronized (cache) {
      cache.put(key, f);
      if (cache.size() > cacheSize) {
        cache.remove(cache.keySet().iterator().next());
      }
    }
  }
}
