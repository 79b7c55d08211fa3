package io.shoplens.processor.inference.retrieval;

import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.VisionTap;
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
import java.util.concurrent.atomic.LongAdder;
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
 *
 * <p>With a generation engine whose vision tower is the same ({@link VisionSharing}, {@link
 * #shareVision}), an upload's image is not put through this model's vision graph at all: {@link
 * #uploadImageFeatures} asks the generation engine for the image (the pass its caption needs
 * anyway, or a cache hit when the caption came first), and the {@link VisionTap} this service hands
 * the engine turns that pass's tower output into features ({@code image_features.onnx}) and caches
 * them before the engine's request completes. The tower output itself is not kept (P x Hv floats
 * per image): only the Q x D features are, in the same LRU cache. Catalog images, which nothing
 * captions, keep using {@link #imageFeatures}: their own vision pass is their only tower pass.
 */
public final class RetrievalService implements RetrievalEngine {
  private final RetrievalModel model;
  private final ExecutorService pool;
  private final Map<String, ImageFeatures> cache;
  private final int cacheSize;
  private final LongAdder ownTowerImages = new LongAdder();
  private final LongAdder sharedTowerImages = new LongAdder();
  private volatile InferenceEngine generation; // non-null: the vision tower is shared with it
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
    return run(() -> ownPass(key, image));
  }

  /**
   * {@inheritDoc}
   *
   * <p>With a shared vision tower ({@link #shareVision}), through the generation engine's vision
   * pass; when that pass left no features here (its image was a vision cache hit whose features
   * this cache has since evicted, or the generation engine refused the request) this model's own
   * vision graph runs, and {@link #ownTowerImages} counts it.
   */
  @Override
  public CompletableFuture<ImageFeatures> uploadImageFeatures(String requestId, byte[] image) {
    InferenceEngine shared = generation;
    if (shared == null) {
      return imageFeatures(requestId, image);
    }
    String key = ImageDigest.sha256Hex(image);
    ImageFeatures known = cached(key);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    if (closed) {
      return CompletableFuture.failedFuture(
          new RequestRejectedException("the retrieval model is closed"));
    }
    try {
      return shared
          .embed(requestId + "/vision", image)
          .handleAsync(
              (ignored, error) -> {
                ImageFeatures f = cached(key);
                return f != null ? f : ownPass(key, image);
              },
              pool);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(
          new RequestRejectedException("the retrieval model is closed"));
    }
  }

  /**
   * Shares the vision tower with {@code generation} from now on: returns the tap to attach to it
   * ({@code BatchingInferenceEngine#attachVisionTap}), and routes {@link #uploadImageFeatures}
   * through it. Call only when {@link VisionSharing#decide} said {@code shared}: the tap's features
   * are only right for the same tower on the same pixels.
   *
   * @throws IllegalStateException when the bundle has no {@code image_features.onnx}, the cache is
   *     off, or the tower is already shared
   */
  public VisionTap shareVision(InferenceEngine generation) {
    if (!model.derivesFeaturesFromTower()) {
      throw new IllegalStateException(
          model.modelVersion() + ": no " + RetrievalModel.IMAGE_FEATURES + " to share with");
    }
    if (cacheSize == 0) {
      throw new IllegalStateException("sharing the vision tower needs the image cache (size 0)");
    }
    synchronized (this) {
      if (this.generation != null) {
        throw new IllegalStateException("the vision tower is shared already");
      }
      this.generation = generation;
    }
    return this::fromTower;
  }

  /** Whether uploads' features come from the generation engine's vision pass. */
  public boolean sharesVision() {
    return generation != null;
  }

  /** Images this model's own vision graph (and so its own tower) has encoded. */
  public long ownTowerImages() {
    return ownTowerImages.sum();
  }

  /** Images whose features came from the generation engine's tower output. */
  public long sharedTowerImages() {
    return sharedTowerImages.sum();
  }

  /** The tap: features from a generation vision pass's tower output, into the cache. */
  private void fromTower(List<String> keys, float[] imageEmbeds) {
    List<ImageFeatures> features = model.featuresFromTower(imageEmbeds, keys.size());
    for (int i = 0; i < keys.size(); i++) {
      remember(keys.get(i), features.get(i));
    }
    sharedTowerImages.add(keys.size());
  }

  private ImageFeatures ownPass(String key, byte[] image) {
    ImageFeatures f = model.encodeImages(List.of(image)).get(0).features();
    ownTowerImages.increment();
    remember(key, f);
    return f;
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
