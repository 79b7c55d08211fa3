package io.shoplens.processor.app.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.InferenceEngine;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The inference engine's {@link EngineStats} as Micrometer meters (Prometheus names in brackets):
 *
 * <ul>
 *   <li>{@code shoplens.engine.queue.depth} [shoplens_engine_queue_depth]: requests waiting now
 *   <li>{@code shoplens.engine.requests{outcome}} [shoplens_engine_requests_total]: submitted,
 *       rejected, completed, failed
 *   <li>{@code shoplens.engine.batches}, {@code shoplens.engine.batched.requests}: batches run and
 *       requests over all of them; {@code shoplens.engine.batch.size.mean} and {@code .max}
 *   <li>{@code shoplens.engine.stage.seconds{stage}} [shoplens_engine_stage_seconds_total]: wall
 *       time per stage (preprocess, vision, prefill, decode); divide by batches for per-batch
 *       latency
 *   <li>{@code shoplens.engine.tokens.generated} and {@code shoplens.engine.tokens.per.second}
 *       (generated tokens over decode time since start)
 *   <li>{@code shoplens.engine.vision.cache{result}} (hit, miss) and {@code
 *       shoplens.engine.vision.cache.hit.ratio}; {@code shoplens.engine.vision.cache.entries}:
 *       images held now (at most the configured vision cache size)
 *   <li>{@code shoplens.engine.rows.busy}: decoding rows held by requests now (slots busy), and
 *       {@code shoplens.engine.kv.bytes{kind}} (in_use, budget): the running batch's KV cache
 *   <li>{@code shoplens.engine.prefix.cache{result}} (hit, miss) and {@code
 *       shoplens.engine.prefix.cache.bytes}: image-prefix KV reuse
 * </ul>
 *
 * Counters are function counters over the engine's own monotonic counts, so nothing is counted
 * twice and a scrape costs one snapshot per meter. Micrometer holds the stats supplier weakly:
 * whoever binds this must keep the binder reachable for as long as the meters are scraped, or they
 * read NaN.
 */
public final class EngineMetrics implements MeterBinder {
  private final Supplier<EngineStats> stats;

  /**
   * @param engine the engine whose stats are read at every scrape
   */
  public EngineMetrics(InferenceEngine engine) {
    this(engine::stats);
  }

  EngineMetrics(Supplier<EngineStats> stats) {
    this.stats = stats;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    gauge(
        registry,
        "shoplens.engine.queue.depth",
        "Requests waiting for the engine",
        EngineStats::queueDepth);
    counter(
        registry,
        "shoplens.engine.requests",
        "Engine requests by outcome",
        s -> s.submitted(),
        "outcome",
        "submitted");
    counter(
        registry,
        "shoplens.engine.requests",
        "Engine requests by outcome",
        s -> s.rejected(),
        "outcome",
        "rejected");
    counter(
        registry,
        "shoplens.engine.requests",
        "Engine requests by outcome",
        s -> s.completed(),
        "outcome",
        "completed");
    counter(
        registry,
        "shoplens.engine.requests",
        "Engine requests by outcome",
        s -> s.failed(),
        "outcome",
        "failed");
    counter(registry, "shoplens.engine.batches", "Batches run", EngineStats::batches);
    counter(
        registry,
        "shoplens.engine.batched.requests",
        "Requests over all batches",
        EngineStats::batchedRequests);
    gauge(
        registry,
        "shoplens.engine.batch.size.mean",
        "Mean requests per batch since start",
        s -> s.batches() == 0 ? 0 : (double) s.batchedRequests() / s.batches());
    gauge(
        registry,
        "shoplens.engine.batch.size.max",
        "Largest batch since start",
        EngineStats::maxBatchSize);
    stage(registry, "preprocess", EngineStats::preprocessNanos);
    stage(registry, "vision", EngineStats::visionNanos);
    stage(registry, "prefill", EngineStats::prefillNanos);
    stage(registry, "decode", EngineStats::decodeNanos);
    counter(
        registry,
        "shoplens.engine.tokens.generated",
        "Tokens generated",
        EngineStats::tokensGenerated);
    gauge(
        registry,
        "shoplens.engine.tokens.per.second",
        "Tokens generated per second of decoding, since start",
        s -> s.decodeNanos() == 0 ? 0 : s.tokensGenerated() / (s.decodeNanos() / 1e9));
    counter(
        registry,
        "shoplens.engine.vision.cache",
        "Vision cache lookups",
        EngineStats::visionCacheHits,
        "result",
        "hit");
    counter(
        registry,
        "shoplens.engine.vision.cache",
        "Vision cache lookups",
        EngineStats::visionCacheMisses,
        "result",
        "miss");
    gauge(
        registry,
        "shoplens.engine.vision.cache.hit.ratio",
        "Share of images served from the vision cache, since start",
        s -> {
          long total = s.visionCacheHits() + s.visionCacheMisses();
          return total == 0 ? 0 : (double) s.visionCacheHits() / total;
        });
    gauge(
        registry,
        "shoplens.engine.vision.cache.entries",
        "Images whose query embeddings the vision cache holds now",
        EngineStats::visionCacheEntries);
    gauge(
        registry,
        "shoplens.engine.rows.busy",
        "Decoding rows held by requests now (a beam counts as a row)",
        EngineStats::busyRows);
    gauge(
        registry,
        "shoplens.engine.kv.bytes",
        "KV cache bytes of the running batch",
        EngineStats::kvBytesInUse,
        "kind",
        "in_use");
    gauge(
        registry,
        "shoplens.engine.kv.bytes",
        "KV cache bytes of the running batch",
        EngineStats::kvBudgetBytes,
        "kind",
        "budget");
    counter(
        registry,
        "shoplens.engine.prefix.cache",
        "Image-prefix KV lookups",
        EngineStats::prefixCacheHits,
        "result",
        "hit");
    counter(
        registry,
        "shoplens.engine.prefix.cache",
        "Image-prefix KV lookups",
        EngineStats::prefixCacheMisses,
        "result",
        "miss");
    gauge(
        registry,
        "shoplens.engine.prefix.cache.bytes",
        "Bytes of image-prefix KV held",
        EngineStats::prefixCacheBytes);
  }

  private void stage(MeterRegistry registry, String stage, ToDoubleFunction<EngineStats> nanos) {
    FunctionCounter.builder("shoplens.engine.stage", stats, s -> nanos.applyAsDouble(s.get()) / 1e9)
        .description("Wall time in each inference stage, summed over batches")
        .baseUnit("seconds")
        .tag("stage", stage)
        .register(registry);
  }

  private void counter(
      MeterRegistry registry,
      String name,
      String description,
      ToDoubleFunction<EngineStats> value,
      String... tags) {
    FunctionCounter.builder(name, stats, s -> value.applyAsDouble(s.get()))
        .description(description)
        .tags(tags)
        .register(registry);
  }

  private void gauge(
      MeterRegistry registry,
      String name,
      String description,
      ToDoubleFunction<EngineStats> value,
      String... tags) {
    Gauge.builder(name, stats, s -> value.applyAsDouble(s.get()))
        .description(description)
        .tags(tags)
        .strongReference(true)
        .register(registry);
  }
}
