package io.shoplens.processor.inference;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link InferenceEngine}: a bounded queue, one worker thread that forms batches (up to {@code
 * maxBatchSize} decoding rows, waiting at most {@code maxBatchWait} after the first request), a
 * vision cache, and {@link Blip2Model} underneath.
 *
 * <p>Failures are contained: a request whose image or prompt is bad fails alone; a failure in a
 * graph fails the requests of that batch only, and the worker goes on with the next batch.
 *
 * <p>One worker is enough: ONNX Runtime parallelises each graph over its intra-op threads, and a
 * second batch in flight would compete for the same cores.
 */
public final class BatchingInferenceEngine implements InferenceEngine {
  private static final Logger LOG = LoggerFactory.getLogger(BatchingInferenceEngine.class);

  private final EngineModel model;
  private final EngineConfig config;
  private final BlockingQueue<Pending> queue;
  private final VisionCache cache;
  private final StatsRecorder stats = new StatsRecorder();
  private final Thread worker;
  private volatile boolean closed;
  // A request taken from the queue that did not fit its batch; only the worker touches it.
  private Pending carried;

  // Options of the caption request an embedding is prepared as: one row, nothing decoded.
  private static final DecodingOptions EMBED_OPTIONS = DecodingOptions.greedy().withMaxNewTokens(1);

  /**
   * A queued request: a generation ({@code future} set) or an image embedding ({@code embedding}
   * set; its {@code request} is a caption request that is prepared and encoded but not decoded).
   */
  private record Pending(
      GenerationRequest request,
      CompletableFuture<GenerationResult> future,
      CompletableFuture<float[]> embedding) {
    boolean embedOnly() {
      return embedding != null;
    }

    boolean fail(Throwable e) {
      return embedOnly() ? embedding.completeExceptionally(e) : future.completeExceptionally(e);
    }
  }

  /**
   * Starts the worker. The engine owns the model from now on and closes it in {@link #close}.
   *
   * @param model an opened model
   * @param config batching, queue and cache settings
   */
  public BatchingInferenceEngine(Blip2Model model, EngineConfig config) {
    this((EngineModel) model, config);
  }

  BatchingInferenceEngine(EngineModel model, EngineConfig config) {
    this.model = model;
    this.config = config;
    this.queue = new ArrayBlockingQueue<>(config.queueCapacity());
    this.cache = new VisionCache(config.visionCacheEntries());
    this.worker = new Thread(this::run, "shoplens-inference");
    worker.setDaemon(true);
    worker.start();
  }

  /** Loads a bundle and starts an engine on it. */
  public static BatchingInferenceEngine start(java.nio.file.Path bundle, EngineConfig config) {
    return new BatchingInferenceEngine(Blip2Model.open(bundle, config), config);
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    return enqueue(new Pending(request, future, null), future);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Embeddings share the queue, the batches and the vision pass with generation requests: an
   * image that a batch both captions and embeds goes through the vision graph once, and the pooled
   * vector is computed from the cached query embeddings on a later hit.
   */
  @Override
  public CompletableFuture<float[]> embed(String requestId, byte[] image) {
    CompletableFuture<float[]> future = new CompletableFuture<>();
    GenerationRequest request;
    try {
      request = GenerationRequest.caption(requestId, image, EMBED_OPTIONS, 0);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
      return future;
    }
    return enqueue(new Pending(request, null, future), future);
  }

  private <T> CompletableFuture<T> enqueue(Pending pending, CompletableFuture<T> future) {
    GenerationRequest request = pending.request();
    if (closed) {
      return reject(future, request, "the engine is closed");
    }
    boolean accepted;
    if (config.backpressure() == EngineConfig.Backpressure.REJECT) {
      accepted = queue.offer(pending);
    } else {
      try {
        accepted = queue.offer(pending, config.offerTimeout().toNanos(), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return reject(future, request, "interrupted while waiting for queue space");
      }
    }
    if (!accepted) {
      return reject(
          future,
          request,
          "queue full ("
              + config.queueCapacity()
              + " requests"
              + (config.backpressure() == EngineConfig.Backpressure.BLOCK
                  ? ", waited " + config.offerTimeout()
                  : "")
              + ")");
    }
    // close() may have drained the queue between our check and our offer.
    if (closed && queue.remove(pending)) {
      return reject(future, request, "the engine is closed");
    }
    stats.submitted.increment();
    return future;
  }

  @Override
  public EngineStats stats() {
    return stats.snapshot(queue::size);
  }

  @Override
  public String modelVersion() {
    return model.modelVersion();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    worker.interrupt();
    boolean stopped;
    try {
      worker.join(config.closeTimeout().toMillis());
      stopped = !worker.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = !worker.isAlive();
    }
    failQueued(stopped ? carried : null);
    if (stopped) {
      model.close();
    } else {
      // Closing sessions under a running graph would crash the JVM; leak them instead.
      LOG.warn(
          "inference worker still running after {}; model {} left open",
          config.closeTimeout(),
          model.modelVersion());
    }
  }

  private <T> CompletableFuture<T> reject(
      CompletableFuture<T> future, GenerationRequest request, String why) {
    stats.rejected.increment();
    future.completeExceptionally(
        new RequestRejectedException("request " + request.requestId() + " rejected: " + why));
    return future;
  }

  private void failQueued(Pending carriedOver) {
    List<Pending> left = new ArrayList<>();
    if (carriedOver != null) {
      left.add(carriedOver);
    }
    queue.drainTo(left);
    for (Pending p : left) {
      stats.failed.increment();
      p.fail(
          new RequestRejectedException(
              "request " + p.request().requestId() + " not run: the engine closed"));
    }
  }

  private void run() {
    while (!closed) {
      List<Pending> batch;
      try {
        batch = nextBatch();
      } catch (InterruptedException e) {
        break; // close() interrupts an idle worker
      }
      if (batch.isEmpty()) {
        continue;
      }
      // A batch that started runs to completion even if close() is called meanwhile.
      boolean interrupted = Thread.interrupted();
      try {
        runBatch(batch);
      } catch (RuntimeException | Error e) {
        fail(batch, e);
      } finally {
        if (interrupted || closed) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private List<Pending> nextBatch() throws InterruptedException {
    List<Pending> batch = new ArrayList<>();
    Pending first = carried != null ? carried : queue.poll(100, TimeUnit.MILLISECONDS);
    carried = null;
    if (first == null) {
      return batch;
    }
    batch.add(first);
    int rows = first.request().options().rows();
    long deadline = System.nanoTime() + config.maxBatchWait().toNanos();
    while (rows < config.maxBatchSize()) {
      long wait = deadline - System.nanoTime();
      Pending next;
      try {
        next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
      } catch (InterruptedException e) {
        // close() while filling a batch: run what was already taken, then stop.
        Thread.currentThread().interrupt();
        break;
      }
      if (next == null) {
        break;
      }
      int nextRows = next.request().options().rows();
      if (rows + nextRows > config.maxBatchSize()) {
        carried = next; // leads the next batch
        break;
      }
      batch.add(next);
      rows += nextRows;
    }
    return batch;
  }

  private void runBatch(List<Pending> batch) {
    stats.batch(batch.size());
    // 1. Prompt and image digest of each request on its own: a bad request fails only itself.
    List<Pending> accepted = new ArrayList<>();
    List<Blip2Model.Prepared> acceptedPrepared = new ArrayList<>();
    for (Pending p : batch) {
      try {
        acceptedPrepared.add(model.prepare(p.request()));
        accepted.add(p);
      } catch (RuntimeException e) {
        fail(List.of(p), e);
      }
    }
    // 2. Query embeddings: from the cache, or one vision pass over the distinct new images. Only a
    // miss decodes and resizes its image (once per distinct image): a bad image fails only the
    // requests for it, and a hit costs no image work on this thread.
    String version = model.modelVersion();
    List<Pending> live = new ArrayList<>();
    List<Blip2Model.Prepared> prepared = new ArrayList<>();
    List<float[]> embeds = new ArrayList<>();
    List<Boolean> hits = new ArrayList<>();
    Map<String, Integer> missing = new LinkedHashMap<>();
    List<float[]> missingPixels = new ArrayList<>();
    for (int i = 0; i < accepted.size(); i++) {
      Blip2Model.Prepared p = acceptedPrepared.get(i);
      String sha = p.imageSha256();
      float[] cached = cache.get(new VisionCache.Key(sha, version));
      if (cached == null && !missing.containsKey(sha)) {
        try {
          missingPixels.add(p.pixels());
          missing.put(sha, missingPixels.size() - 1);
        } catch (RuntimeException e) {
          stats.preprocessNanos.add(p.preprocessNanos());
          fail(List.of(accepted.get(i)), e);
          continue;
        }
      }
      stats.preprocessNanos.add(p.preprocessNanos());
      if (cached != null) {
        stats.cacheHits.increment();
      } else {
        stats.cacheMisses.increment();
      }
      live.add(accepted.get(i));
      prepared.add(p);
      embeds.add(cached);
      hits.add(cached != null);
    }
    if (live.isEmpty()) {
      return;
    }
    try {
      long visionNanos = 0;
      Map<String, float[]> fresh = new HashMap<>();
      if (!missingPixels.isEmpty()) {
        long start = System.nanoTime();
        List<float[]> encoded = model.encodeImages(missingPixels);
        visionNanos = System.nanoTime() - start;
        stats.visionRuns.increment();
        stats.visionNanos.add(visionNanos);
        missing.forEach(
            (sha, index) -> {
              fresh.put(sha, encoded.get(index));
              cache.put(new VisionCache.Key(sha, version), encoded.get(index));
            });
      }
      List<Long> nanos = new ArrayList<>();
      for (int i = 0; i < prepared.size(); i++) {
        if (embeds.get(i) == null) {
          embeds.set(i, fresh.get(prepared.get(i).imageSha256()));
          nanos.add(visionNanos);
        } else {
          nanos.add(0L);
        }
      }
      // 3. Embeddings are done now; the generation requests are decoded together.
      List<Pending> decoding = new ArrayList<>();
      List<Blip2Model.Prepared> decodePrepared = new ArrayList<>();
      List<float[]> decodeEmbeds = new ArrayList<>();
      List<Long> decodeNanos = new ArrayList<>();
      List<Boolean> decodeHits = new ArrayList<>();
      for (int i = 0; i < live.size(); i++) {
        Pending p = live.get(i);
        if (p.embedOnly()) {
          try {
            p.embedding()
                .complete(
                    ImageEmbeddings.meanPoolNormalized(embeds.get(i), model.numQueryTokens()));
            stats.completed.increment();
          } catch (RuntimeException e) {
            fail(List.of(p), e);
          }
        } else {
          decoding.add(p);
          decodePrepared.add(prepared.get(i));
          decodeEmbeds.add(embeds.get(i));
          decodeNanos.add(nanos.get(i));
          decodeHits.add(hits.get(i));
        }
      }
      if (decoding.isEmpty()) {
        return;
      }
      live = decoding;
      List<GenerationResult> results =
          model.decode(decodePrepared, decodeEmbeds, decodeNanos, decodeHits);
      long prefill = 0;
      long decode = 0;
      for (int i = 0; i < results.size(); i++) {
        GenerationResult r = results.get(i);
        prefill = r.timings().prefill().toNanos();
        decode = Math.max(decode, r.timings().decode().toNanos());
        stats.tokensGenerated.add(r.generatedTokens());
        stats.completed.increment();
        live.get(i).future().complete(r);
      }
      stats.prefillNanos.add(prefill);
      stats.decodeNanos.add(decode);
    } catch (RuntimeException e) {
      fail(live, e);
    }
  }

  private void fail(List<Pending> batch, Throwable e) {
    for (Pending p : batch) {
      if (p.fail(e)) {
        stats.failed.increment();
      }
    }
    if (batch.size() > 1) {
      LOG.warn("batch of {} requests failed: {}", batch.size(), e.toString());
    }
  }
}
