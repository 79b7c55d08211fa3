package io.shoplens.processor.inference;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/** The engine's counters; {@link #snapshot} makes an {@link EngineStats}. Thread-safe. */
final class StatsRecorder {
  final LongAdder submitted = new LongAdder();
  final LongAdder rejected = new LongAdder();
  final LongAdder completed = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder batches = new LongAdder();
  final LongAdder batchedRequests = new LongAdder();
  final AtomicInteger maxBatchSize = new AtomicInteger();
  final LongAdder cacheHits = new LongAdder();
  final LongAdder cacheMisses = new LongAdder();
  final LongAdder visionRuns = new LongAdder();
  final LongAdder tokensGenerated = new LongAdder();
  final LongAdder preprocessNanos = new LongAdder();
  final LongAdder visionNanos = new LongAdder();
  final LongAdder prefillNanos = new LongAdder();
  final LongAdder decodeNanos = new LongAdder();

  void batch(int size) {
    batches.increment();
    batchedRequests.add(size);
    maxBatchSize.accumulateAndGet(size, Math::max);
  }

  EngineStats snapshot(
      IntSupplier queueDepth,
      int busyRows,
      long kvBytesInUse,
      long kvBudgetBytes,
      PrefixCache prefixes,
      int visionCacheEntries) {
    return new EngineStats(
        queueDepth.getAsInt(),
        submitted.sum(),
        rejected.sum(),
        completed.sum(),
        failed.sum(),
        batches.sum(),
        batchedRequests.sum(),
        maxBatchSize.get(),
        cacheHits.sum(),
        cacheMisses.sum(),
        visionRuns.sum(),
        tokensGenerated.sum(),
        preprocessNanos.sum(),
        visionNanos.sum(),
        prefillNanos.sum(),
        decodeNanos.sum(),
        busyRows,
        kvBytesInUse,
        kvBudgetBytes,
        prefixes == null ? 0 : prefixes.hits.sum(),
        prefixes == null ? 0 : prefixes.misses.sum(),
        prefixes == null ? 0 : prefixes.bytes(),
        visionCacheEntries);
  }
}
