package io.shoplens.processor.inference;

import io.shoplens.processor.inference.EngineRequests.Admitted;
import io.shoplens.processor.inference.EngineRequests.Decodable;
import io.shoplens.processor.inference.EngineRequests.Embedding;
import io.shoplens.processor.inference.EngineRequests.Generation;
import io.shoplens.processor.inference.EngineRequests.Pending;
import io.shoplens.processor.inference.generation.DecodingBatch;
import io.shoplens.processor.inference.generation.RunningBatch;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link InferenceEngine}: a bounded queue, one worker thread, a vision cache, a running
 * decoding batch over one KV cache, and {@link Blip2Model} (or {@link T5Model}) underneath.
 *
 * <p><b>Scheduler</b> ({@link EngineConfig#scheduler()}). Under {@link
 * EngineConfig.Scheduler#STATIC} the worker forms a batch (up to {@code maxBatchSize} decoding
 * rows, waiting at most {@code maxBatchWait} after the first request), prefills it and decodes it
 * until its last request has finished; then the next batch. Under {@link
 * EngineConfig.Scheduler#CONTINUOUS} scheduling is per decoder step (iteration-level, as in Orca
 * and vLLM): after every step the requests that finished leave the batch (their futures complete at
 * once), and waiting requests join while rows and KV budget allow. A joining request is prepared,
 * its image encoded (or found in the vision cache), and its prompt prefilled together with the
 * other requests joining at that step, as a graph call beside the running batch; its KV rows are
 * then copied into free rows of the running cache and it decodes with the others from the next step
 * on. A 2-token answer thus leaves after 2 steps instead of waiting for the batch's longest
 * caption, and a new request waits one step, not one batch. What a request generates does not
 * depend on its neighbours: each row attends only to its own columns, and its tokens are picked
 * with its own options and seeded random source (see {@link RunningBatch}).
 *
 * <p><b>KV budget</b> ({@link EngineConfig#kvBudgetTokens()} or {@link
 * EngineConfig#kvBudgetBytes()}). The running batch's KV cache is a window of rows x columns; a
 * request joins only if the window, with every request in it generating up to its {@code
 * maxNewTokens}, stays within the budget. Otherwise it waits (in order: later requests do not
 * overtake it), and requests behind it wait in the bounded queue, whose backpressure reaches {@code
 * submit}: a full budget means waiting, never an out-of-memory. A request that would not fit even
 * alone fails with an {@link IllegalArgumentException}. The cache's storage is allocated as the
 * window grows, up to twice the budget (past and present tensors alternate); a joining prefill
 * needs its own small cache beside it. Rows busy and KV bytes in use are in {@link #stats()}.
 *
 * <p><b>Image-prefix reuse</b> ({@link EngineConfig#prefixCacheBytes()}). Every prompt about an
 * image starts with the same {@code num_query_tokens} image positions (padding sits after them),
 * whose keys and values depend on nothing else. A {@link PrefixCache} beside the vision cache keeps
 * them by (image sha256, model version), LRU by bytes: the caption, the attribute prompts, every
 * question and every later turn about an upload compute them once, and their prefill runs over the
 * text columns only. Hits, misses and bytes are in {@link #stats()}. Longer shared prefixes (a
 * conversation's earlier turns) are not reused: they are shared only by the turns of one
 * conversation, a few dozen tokens each, and matching them would need per-block hashing of every
 * prompt (as vLLM does); the image prefix is the part every request about an upload shares.
 *
 * <p><b>T5 bundles</b> ({@code architecture: blip2-t5}, {@link T5Model}) run behind the same queue,
 * vision cache, interface and scheduler: under the continuous scheduler a joining T5 request is
 * encoded (with the others joining at that step) and given its first decoder step beside the
 * running batch, then decodes with it, its own cross-attention KV beside its row (see {@link
 * io.shoplens.processor.inference.generation.EncoderDecoderBatch}). Image-prefix reuse does not
 * apply to T5's bidirectional encoder, so no prefix cache is kept for it.
 *
 * <p>Failures are contained: a request whose image or prompt is bad fails alone; a failure in a
 * graph fails the requests decoding at that moment (the running batch and its joiners), and the
 * worker goes on with the next requests.
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
  private volatile VisionTap visionTap; // null: no retrieval model shares the vision tower
  // A request taken from the queue that did not fit its batch; only the worker touches it.
  private Pending carried;
  // Requests prepared and encoded, waiting for rows or KV budget to join; only the worker touches
  // them (close() after the worker stopped).
  private final ArrayDeque<Decodable> ready = new ArrayDeque<>();
  private final DecodingBatch<Decodable> running;
  private final PrefixCache prefixes;
  private volatile int busyRows;
  private volatile long kvBytesInUse;
  private final long kvBudgetBytes;

  // Options of the caption request an embedding is prepared as: one row, nothing decoded.
  private static final DecodingOptions EMBED_OPTIONS = DecodingOptions.greedy().withMaxNewTokens(1);

  /**
   * Starts the worker. The engine owns the model from now on and closes it in {@link #close}.
   * Outside this package engines come from {@link #start}.
   *
   * @param model an opened model
   * @param config batching, queue and cache settings
   */
  BatchingInferenceEngine(EngineModel model, EngineConfig config) {
    this.model = model;
    this.config = config;
    this.queue = new ArrayBlockingQueue<>(config.queueCapacity());
    this.cache = new VisionCache(config.visionCacheEntries());
    this.prefixes =
        config.prefixCacheBytes() > 0 && model.reusesImagePrefixes()
            ? new PrefixCache(config.prefixCacheBytes(), model.modelVersion())
            : null;
    this.running = model.newBatch(config, prefixes);
    this.kvBudgetBytes =
        running.budgetTokens() > Long.MAX_VALUE / running.kvBytesPerToken()
            ? Long.MAX_VALUE
            : running.budgetTokens() * running.kvBytesPerToken();
    this.worker = new Thread(this::run, "shoplens-inference");
    worker.setDaemon(true);
    worker.start();
  }

  /**
   * Loads a bundle and starts an engine on it: {@link Blip2Model} for {@code blip2-opt}, {@link
   * T5Model} for {@code blip2-t5} (the manifest's {@code architecture} decides, see {@link
   * GenerationBundles}).
   *
   * @throws io.shoplens.processor.inference.bundle.BundleException naming the file, for a bundle
   *     that is missing a file, has a wrong checksum or graphs that do not match its manifest
   */
  public static BatchingInferenceEngine start(Path bundle, EngineConfig config) {
    return new BatchingInferenceEngine(
        GenerationBundles.open(GenerationBundles.load(bundle), config), config);
  }

  /**
   * Hands the vision tower's output of every image this engine encodes from now on to {@code tap}
   * (a retrieval model with the same tower; see {@link VisionTap}). A tap that throws is logged and
   * does not fail the generation requests of that pass.
   *
   * @return whether the tap is attached: false, with nothing attached, when this bundle's vision
   *     graph does not expose the tower output (exported before {@code vision_tower})
   * @throws IllegalStateException when a tap is attached already
   */
  public boolean attachVisionTap(VisionTap tap) {
    if (!model.exposesTower()) {
      return false;
    }
    synchronized (this) {
      if (visionTap != null) {
        throw new IllegalStateException("a vision tap is attached already");
      }
      visionTap =
          (keys, embeds) -> {
            try {
              tap.towerOutput(keys, embeds);
            } catch (RuntimeException e) {
              LOG.warn(
                  "vision tap failed for {} image(s); their retrieval features will be computed"
                      + " by the retrieval model's own vision pass: {}",
                  keys.size(),
                  e.toString());
            }
          };
    }
    return true;
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    return enqueue(new Generation(request, future), future);
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
    return enqueue(new Embedding(request, future), future);
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
    return stats.snapshot(
        queue::size, busyRows, kvBytesInUse, kvBudgetBytes, prefixes, cache.size());
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
      for (Decodable d : ready) {
        stats.failed.increment();
        d.pending().fail(notRun(d.pending()));
      }
      ready.clear();
      running.close();
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
      p.fail(notRun(p));
    }
  }

  private static RequestRejectedException notRun(Pending p) {
    return new RequestRejectedException(
        "request " + p.request().requestId() + " not run: the engine closed");
  }

  private void run() {
    boolean continuous = config.scheduler() == EngineConfig.Scheduler.CONTINUOUS;
    while (true) {
      boolean idle = running.isEmpty() && ready.isEmpty();
      if (closed && running.isEmpty()) {
        break; // close() fails what still waits
      }
      boolean admitted = false;
      if (!closed && (idle || continuous)) {
        List<Pending> taken;
        try {
          taken = idle ? nextBatch() : available();
        } catch (InterruptedException e) {
          break; // close() interrupts an idle worker
        }
        admitted = !taken.isEmpty();
        if (admitted) {
          admit(taken);
        }
      }
      // What was taken runs, and the running batch runs to completion, even if close() is called
      // meanwhile; close() interrupts only to wake an idle worker.
      boolean interrupted = Thread.interrupted();
      try {
        if (!closed || admitted) {
          joinWaiting(continuous);
        }
        if (!running.isEmpty()) {
          long start = System.nanoTime();
          complete(model.step(running));
          stats.decodeNanos.add(System.nanoTime() - start);
        }
      } catch (RuntimeException | Error e) {
        failRunning(e);
      } finally {
        busyRows = running.busyRows();
        kvBytesInUse = running.kvBytesInUse();
        if (interrupted || closed) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * Continuous scheduling, with a batch running: the requests already queued, without waiting, as
   * many as the free rows could take.
   */
  private List<Pending> available() {
    int rows = running.busyRows();
    for (Decodable d : ready) {
      rows += d.pending().request().options().rows();
    }
    List<Pending> taken = new ArrayList<>();
    while (rows < config.maxBatchSize()) {
      Pending next = carried != null ? carried : queue.poll();
      carried = null;
      if (next == null) {
        break;
      }
      taken.add(next);
      rows += next.request().options().rows();
    }
    return taken;
  }

  /** Prepares and encodes taken requests; generation requests then wait in {@code ready}. */
  private void admit(List<Pending> taken) {
    stats.batch(taken.size());
    // Prompt and image digest of each request on its own: a bad request fails only itself.
    List<Admitted> admitted = new ArrayList<>();
    for (Pending p : taken) {
      try {
        Blip2Model.Prepared prepared = model.prepare(p.request());
        admitted.add(new Admitted(p, prepared, prepared.preprocessNanos()));
      } catch (RuntimeException e) {
        fail(List.of(p), e);
      }
    }
    List<Decodable> decoding = new ArrayList<>();
    try {
      for (Blip2Model.Encoded e : encode(admitted, decoding)) {
        stats.preprocessNanos.add(e.preprocessNanos());
      }
    } catch (RuntimeException e) {
      fail(admitted.stream().map(Admitted::pending).toList(), e);
      return;
    }
    for (Decodable d : decoding) {
      if (running.canEverFit(input(d))) {
        ready.add(d);
      } else {
        fail(
            List.of(d.pending()),
            new IllegalArgumentException(
                "request "
                    + d.pending().request().requestId()
                    + " needs "
                    + d.pending().request().options().rows()
                    + " rows x "
                    + input(d).promptIds().length
                    + " prompt tokens + "
                    + d.pending().request().options().maxNewTokens()
                    + " new tokens of KV, more than the whole budget of "
                    + running.budgetTokens()
                    + " token rows"));
      }
    }
  }

  /**
   * Joins waiting requests, in order, while they fit: under the static scheduler only into an empty
   * batch (the batch that was just formed), under the continuous one after any step.
   */
  private void joinWaiting(boolean continuous) {
    if (ready.isEmpty() || (!continuous && !running.isEmpty())) {
      return;
    }
    List<RunningBatch.Input<Decodable>> joiners = new ArrayList<>();
    while (!ready.isEmpty()) {
      List<RunningBatch.Input<Decodable>> with = new ArrayList<>(joiners);
      with.add(input(ready.peek()));
      if (!running.fits(with)) {
        break; // first come, first served: later requests do not overtake it
      }
      joiners = with;
      ready.poll();
    }
    if (joiners.isEmpty()) {
      return;
    }
    long start = System.nanoTime();
    try {
      complete(model.join(running, joiners));
    } catch (RuntimeException | Error e) {
      fail(joiners.stream().map(j -> (Pending) j.tag().pending()).toList(), e);
      throw e;
    } finally {
      stats.prefillNanos.add(System.nanoTime() - start);
    }
  }

  private static RunningBatch.Input<Decodable> input(Decodable d) {
    Blip2Model.Prepared p = d.encoded().prepared();
    return new RunningBatch.Input<>(
        d,
        p.promptIds(),
        d.encoded().queryEmbeds(),
        p.request().options(),
        p.request().seed(),
        p.imageSha256());
  }

  private void complete(List<RunningBatch.Finished<Decodable>> finished) {
    for (RunningBatch.Finished<Decodable> f : finished) {
      Decodable d = f.tag();
      try {
        GenerationResult r = model.result(d.encoded(), f);
        stats.tokensGenerated.add(r.generatedTokens());
        stats.completed.increment();
        d.pending().future().complete(r);
      } catch (RuntimeException e) {
        fail(List.of(d.pending()), e);
      }
    }
  }

  /**
   * A graph failed: the requests decoding now fail, and decoding starts over with an empty batch.
   */
  private void failRunning(Throwable e) {
    fail(running.tags().stream().map(d -> (Pending) d.pending()).toList(), e);
    running.clear();
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

  /**
   * Gives every admitted request its image's query embeddings: a cache hit, or one vision pass over
   * the distinct missing images. Only a miss decodes its image, once per distinct image, as an
   * explicit step: a bad image fails only the requests for it, and a hit costs no image work on
   * this thread. Embeddings complete here; generation requests are added to {@code decoding} in
   * batch order.
   *
   * @return every request that got its embeddings (for the stats)
   */
  private List<Blip2Model.Encoded> encode(List<Admitted> admitted, List<Decodable> decoding) {
    String version = model.modelVersion();
    Map<String, float[]> hits = new HashMap<>();
    Map<String, float[]> missingPixels = new LinkedHashMap<>();
    List<Admitted> live = new ArrayList<>();
    for (Admitted a : admitted) {
      String sha = a.imageSha256();
      float[] cached = cache.get(new VisionCache.Key(sha, version));
      if (cached != null) {
        hits.put(sha, cached);
      } else if (!missingPixels.containsKey(sha)) {
        long start = System.nanoTime();
        try {
          missingPixels.put(sha, model.decodeImage(a.prepared()));
          a = a.plusPreprocess(System.nanoTime() - start);
        } catch (RuntimeException e) {
          stats.preprocessNanos.add(a.preprocessNanos() + System.nanoTime() - start);
          fail(List.of(a.pending()), e);
          continue;
        }
      }
      live.add(a);
    }
    long visionNanos = 0;
    Map<String, float[]> fresh = new HashMap<>();
    if (!missingPixels.isEmpty()) {
      long start = System.nanoTime();
      VisionTap tap = visionTap;
      List<float[]> pixels = new ArrayList<>(missingPixels.values());
      List<float[]> encoded =
          tap == null
              ? model.encodeImages(pixels)
              : model.encodeImages(pixels, new ArrayList<>(missingPixels.keySet()), tap);
      visionNanos = System.nanoTime() - start;
      stats.visionRuns.increment();
      stats.visionNanos.add(visionNanos);
      int i = 0;
      for (String sha : missingPixels.keySet()) {
        fresh.put(sha, encoded.get(i));
        cache.put(new VisionCache.Key(sha, version), encoded.get(i++));
      }
    }
    List<Blip2Model.Encoded> done = new ArrayList<>();
    for (Admitted a : live) {
      boolean hit = hits.containsKey(a.imageSha256());
      Blip2Model.Encoded e =
          hit
              ? a.encoded(hits.get(a.imageSha256()), 0, true)
              : a.encoded(fresh.get(a.imageSha256()), visionNanos, false);
      (hit ? stats.cacheHits : stats.cacheMisses).increment();
      done.add(e);
      try {
        Optional<Decodable> next = a.pending().encoded(e, model.numQueryTokens());
        if (next.isPresent()) {
          decoding.add(next.get());
        } else {
          stats.completed.increment();
        }
      } catch (RuntimeException ex) {
        fail(List.of(a.pending()), ex);
      }
    }
    return done;
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
