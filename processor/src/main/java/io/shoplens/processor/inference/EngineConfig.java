package io.shoplens.processor.inference;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.notNegative;
import static io.shoplens.processor.options.OptionChecks.require;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import java.util.Objects;

/**
 * How the inference engine runs. Validated on construction; start from {@link #builder()} (the
 * {@link #defaults()}) or {@link #toBuilder()} to change single settings.
 *
 * @param executionProvider CPU (default) or CUDA; CUDA needs the {@code -Pcuda} build
 * @param cudaDeviceId GPU ordinal when {@code executionProvider} is CUDA
 * @param intraOpThreads ONNX Runtime threads inside one operator; 0 lets ONNX Runtime choose
 * @param interOpThreads ONNX Runtime threads across operators; 0 lets ONNX Runtime choose
 * @param maxBatchSize most requests decoded together
 * @param maxBatchWait longest a request waits for others to fill its batch
 * @param queueCapacity most requests waiting; the queue never grows beyond this
 * @param backpressure what {@code submit} does when the queue is full
 * @param offerTimeout how long {@code submit} blocks under {@link Backpressure#BLOCK}
 * @param visionCacheEntries most images whose query embeddings are kept (0 disables the cache)
 * @param closeTimeout how long {@code close} waits for the running batch
 * @param scheduler when requests join a decoding batch: {@link Scheduler#CONTINUOUS} (after every
 *     decoder step; the default) or {@link Scheduler#STATIC} (a batch runs to completion)
 * @param kvBudgetTokens most token rows (rows x columns) the running batch's KV cache may hold; 0
 *     means {@code maxBatchSize} x the model's {@code max_position_embeddings} (nothing valid ever
 *     waits for lack of KV)
 * @param kvBudgetBytes the same budget in bytes (divided by the model's KV bytes per token); 0
 *     means use {@code kvBudgetTokens}. At most one of the two may be set
 * @param prefixCacheBytes most bytes of image-prefix KV kept for reuse, by image and model version
 *     (0 disables reuse: every prompt is prefilled whole)
 * @param memoryCheck whether opening a model first compares its {@link MemoryEstimate} with the
 *     memory available and refuses to start when it does not fit ({@link MemoryCheck})
 * @param memoryAvailableBytes the memory the check compares with; 0 means detect it ({@link
 *     MemoryCheck#detectAvailable()}: physical memory or the cgroup limit, less the JVM's max heap)
 */
@RecordBuilder
public record EngineConfig(
    ExecutionProvider executionProvider,
    int cudaDeviceId,
    int intraOpThreads,
    int interOpThreads,
    int maxBatchSize,
    Duration maxBatchWait,
    int queueCapacity,
    Backpressure backpressure,
    Duration offerTimeout,
    int visionCacheEntries,
    Duration closeTimeout,
    Scheduler scheduler,
    long kvBudgetTokens,
    long kvBudgetBytes,
    long prefixCacheBytes,
    boolean memoryCheck,
    long memoryAvailableBytes) {

  /** Where the graphs run. */
  public enum ExecutionProvider {
    /** ONNX Runtime's CPU provider (the default build). */
    CPU,
    /** ONNX Runtime's CUDA provider; needs the onnxruntime_gpu artifact ({@code -Pcuda}). */
    CUDA
  }

  /** When waiting requests join the decoding batch. */
  public enum Scheduler {
    /**
     * Requests wait up to {@code maxBatchWait} to form a batch, which then decodes until every one
     * of its requests has finished; the next batch starts after it.
     */
    STATIC,
    /** After every decoder step finished requests leave and waiting ones join (Orca, vLLM). */
    CONTINUOUS
  }

  /** What a full queue does to {@code submit}. */
  public enum Backpressure {
    /** Wait up to {@code offerTimeout} for room, then reject. */
    BLOCK,
    /** Reject at once. */
    REJECT
  }

  public EngineConfig {
    Objects.requireNonNull(executionProvider, "executionProvider");
    Objects.requireNonNull(backpressure, "backpressure");
    Objects.requireNonNull(scheduler, "scheduler");
    atLeast("cudaDeviceId", cudaDeviceId, 0);
    atLeast("intraOpThreads", intraOpThreads, 0);
    atLeast("interOpThreads", interOpThreads, 0);
    atLeast("maxBatchSize", maxBatchSize, 1);
    notNegative("maxBatchWait", maxBatchWait);
    atLeast("queueCapacity", queueCapacity, 1);
    notNegative("offerTimeout", offerTimeout);
    atLeast("visionCacheEntries", visionCacheEntries, 0);
    notNegative("closeTimeout", closeTimeout);
    atLeast("kvBudgetTokens", kvBudgetTokens, 0);
    atLeast("kvBudgetBytes", kvBudgetBytes, 0);
    atLeast("prefixCacheBytes", prefixCacheBytes, 0);
    require(
        memoryAvailableBytes >= 0,
        "memoryAvailableBytes must be >= 0 (0: detect), got " + memoryAvailableBytes);
    require(
        kvBudgetTokens == 0 || kvBudgetBytes == 0,
        "set kvBudgetTokens or kvBudgetBytes, not both; got "
            + kvBudgetTokens
            + " tokens and "
            + kvBudgetBytes
            + " bytes");
  }

  /**
   * The KV budget in token rows for a model with {@code bytesPerToken} bytes of KV per token and
   * {@code maxPositions} positions.
   */
  public long kvBudgetTokens(long bytesPerToken, int maxPositions) {
    if (kvBudgetBytes > 0) {
      return kvBudgetBytes / bytesPerToken;
    }
    return kvBudgetTokens > 0 ? kvBudgetTokens : (long) maxBatchSize * maxPositions;
  }

  /**
   * CPU, ONNX Runtime's thread defaults, batches of 8 within 10 ms, 256 queued, 1024 images, the
   * static scheduler, a KV budget of 8 full-length rows, 256 MiB of image-prefix KV, the memory
   * check on with the available memory detected.
   */
  public static EngineConfig defaults() {
    return new EngineConfig(
        ExecutionProvider.CPU,
        0,
        0,
        0,
        8,
        Duration.ofMillis(10),
        256,
        Backpressure.BLOCK,
        Duration.ofSeconds(5),
        1024,
        Duration.ofSeconds(30),
        // Continuous by default since the quiet serving benchmark (README "Benchmarks") measured it
        // at 1.8x the static scheduler's requests/s on ShopLens's workload; static stays for
        // comparison and as a fallback.
        Scheduler.CONTINUOUS,
        0,
        0,
        256L << 20,
        true,
        0);
  }

  /** A builder starting from {@link #defaults()}. */
  public static EngineConfigBuilder builder() {
    return EngineConfigBuilder.builder(defaults());
  }

  /** A builder starting from this configuration. */
  public EngineConfigBuilder toBuilder() {
    return EngineConfigBuilder.builder(this);
  }
}
