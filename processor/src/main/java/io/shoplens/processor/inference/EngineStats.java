package io.shoplens.processor.inference;

/**
 * A snapshot of the engine's counters (monotonic since start) and gauges (current values). Times
 * are summed nanoseconds of wall time per stage over all batches.
 *
 * @param queueDepth requests waiting now (gauge)
 * @param submitted requests accepted
 * @param rejected requests refused (queue full or closed)
 * @param completed requests that produced a result
 * @param failed requests completed with an error
 * @param batches batches run
 * @param batchedRequests requests over all batches (mean batch size = batchedRequests / batches)
 * @param maxBatchSize largest batch so far
 * @param visionCacheHits images whose query embeddings came from the cache
 * @param visionCacheMisses images that went through the vision graph
 * @param visionRuns vision graph invocations
 * @param tokensGenerated tokens generated over all rows
 * @param preprocessNanos time preprocessing images and prompts
 * @param visionNanos time in the vision graph
 * @param prefillNanos time in prefill
 * @param decodeNanos time in decode steps
 * @param busyRows decoding rows held by requests now (gauge; a beam counts as a row)
 * @param kvBytesInUse bytes of KV the running batch's window holds now (gauge)
 * @param kvBudgetBytes the KV budget in bytes (Long.MAX_VALUE when unbounded)
 * @param prefixCacheHits image prefixes whose KV came from the prefix cache
 * @param prefixCacheMisses image prefixes computed and stored
 * @param prefixCacheBytes bytes of image-prefix KV held now (gauge)
 * @param visionCacheEntries images whose query embeddings the vision cache holds now (gauge; at
 *     most the configured vision cache size)
 */
public record EngineStats(
    int queueDepth,
    long submitted,
    long rejected,
    long completed,
    long failed,
    long batches,
    long batchedRequests,
    int maxBatchSize,
    long visionCacheHits,
    long visionCacheMisses,
    long visionRuns,
    long tokensGenerated,
    long preprocessNanos,
    long visionNanos,
    long prefillNanos,
    long decodeNanos,
    int busyRows,
    long kvBytesInUse,
    long kvBudgetBytes,
    long prefixCacheHits,
    long prefixCacheMisses,
    long prefixCacheBytes,
    int visionCacheEntries) {

  /** All zero. */
  public static EngineStats empty() {
    return new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  }
}
