package io.shoplens.processor.inference;

import io.shoplens.processor.inference.bundle.Dtype;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses to open a model that cannot fit: compares the {@link MemoryEstimate} with the memory
 * available, before any graph is loaded, so that a machine too small says so at once (needed,
 * available, what to change) instead of being killed for memory halfway through loading.
 *
 * <p>Refused is a model whose {@linkplain MemoryEstimate#minimumBytes() minimum} (weights, caches
 * and the KV of one full-length row) does not fit: it cannot run at all. A model that fits that but
 * not its whole KV budget (by default every batch row at the model's full length, which short
 * captions and answers rarely reach) starts with a warning that names the budget that would fit:
 * the budget is a worst case, and refusing it would turn away machines that serve well.
 *
 * <p>The JVM cannot see how much native memory it may use: ONNX Runtime's weights and the KV
 * cache's direct buffers live outside the heap. Available is therefore the machine's physical
 * memory, or the cgroup limit when lower ({@code /sys/fs/cgroup/memory.max}, or cgroup v1's {@code
 * memory/memory.limit_in_bytes}), less the JVM's max heap, which the heap may grow to. Under CUDA
 * the weights go to the GPU, whose memory is not checked (ONNX Runtime's Java API does not report
 * it); the host still reads them while loading, so they are counted here too.
 */
public final class MemoryCheck {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryCheck.class);
  private static final Path CGROUP = Path.of("/sys/fs/cgroup");

  private MemoryCheck() {}

  /**
   * Memory the model may use, and where the figure comes from.
   *
   * @param bytes the figure
   * @param source how it was found, for messages
   */
  public record Available(long bytes, String source) {}

  /**
   * Checks {@code manifest}'s estimate under {@code config}, unless {@link
   * EngineConfig#memoryCheck()} is off; the available figure is {@link
   * EngineConfig#memoryAvailableBytes()} when set, else {@link #detectAvailable()}.
   *
   * @throws EngineStartupException when the estimate exceeds what is available
   */
  public static void require(ModelManifest manifest, EngineConfig config) {
    require(manifest.modelVersion(), MemoryEstimate.of(manifest, config), config);
  }

  /**
   * Checks an estimate (of any bundle kind) as {@link #require(ModelManifest, EngineConfig)} does.
   *
   * @throws EngineStartupException when the estimate exceeds what is available
   */
  public static void require(String modelVersion, MemoryEstimate estimate, EngineConfig config) {
    if (!config.memoryCheck()) {
      return;
    }
    Available available =
        config.memoryAvailableBytes() > 0
            ? new Available(
                config.memoryAvailableBytes(),
                "as configured (shoplens.inference.memory.available.bytes)")
            : detectAvailable();
    require(modelVersion, estimate, available, config);
  }

  /**
   * Fails when {@code needed} exceeds {@code available}, with a message that says both, their parts
   * and what to change.
   *
   * @throws EngineStartupException when it does not fit
   */
  static void require(
      String modelVersion, MemoryEstimate needed, Available available, EngineConfig config) {
    if (needed.totalBytes() <= available.bytes()) {
      return;
    }
    if (needed.minimumBytes() <= available.bytes()) {
      LOG.warn(
          "model {}: its whole KV budget may not fit in memory: needs {}; available {} ({}). It"
              + " starts, since requests rarely reach the model's full length; to rule out running"
              + " out of memory set shoplens.inference.kv.budget.bytes={} (what fits) or lower"
              + " shoplens.inference.batch.max.size (now {})",
          modelVersion,
          needed.describe(),
          MemoryEstimate.human(available.bytes()),
          available.source(),
          needed.kvBudgetFitting(available.bytes()),
          config.maxBatchSize());
      return;
    }
    StringBuilder fix = new StringBuilder();
    if (needed.dtype() == Dtype.FLOAT32) {
      fix.append("export the model with --dtype float16 (half the weights and KV); ");
    }
    fix.append(
            "lower shoplens.inference.prefix.cache.bytes or shoplens.inference.vision.cache.size;")
        .append(" give the process more memory or the JVM a smaller -Xmx; or, if the figure is")
        .append(" wrong, set shoplens.inference.memory.available.bytes (or")
        .append(" shoplens.inference.memory.check=false to skip this check)");
    throw new EngineStartupException(
        "not enough memory for model "
            + modelVersion
            + ": needs at least "
            + MemoryEstimate.human(needed.minimumBytes())
            + " with one full-length row of KV ("
            + needed.describe()
            + " with the configured KV budget)"
            + "; available "
            + MemoryEstimate.human(available.bytes())
            + " ("
            + available.source()
            + ")"
            + (config.executionProvider() == EngineConfig.ExecutionProvider.CUDA
                ? "; GPU memory is not checked"
                : "")
            + ". To start: "
            + fix,
        null);
  }

  /** The memory available on this machine to native allocations (see the class comment). */
  public static Available detectAvailable() {
    return available(CGROUP, physicalMemory(), Runtime.getRuntime().maxMemory());
  }

  /**
   * Available memory from a cgroup file system root, the physical memory and the JVM's max heap.
   *
   * @param cgroupRoot where cgroup files are read ({@code /sys/fs/cgroup}); missing files mean no
   *     limit
   */
  static Available available(Path cgroupRoot, long physical, long maxHeap) {
    long limit = physical;
    String what = "physical memory " + MemoryEstimate.human(physical);
    Optional<Path> file = cgroupLimitFile(cgroupRoot);
    if (file.isPresent()) {
      OptionalLong cgroup = readLimit(file.get());
      if (cgroup.isPresent() && cgroup.getAsLong() < limit) {
        limit = cgroup.getAsLong();
        what = "cgroup limit " + MemoryEstimate.human(limit) + " (" + file.get() + ")";
      }
    }
    return new Available(
        Math.max(0, limit - maxHeap),
        what + " less the JVM's max heap " + MemoryEstimate.human(maxHeap));
  }

  private static Optional<Path> cgroupLimitFile(Path root) {
    Path v2 = root.resolve("memory.max");
    if (Files.isRegularFile(v2)) {
      return Optional.of(v2);
    }
    Path v1 = root.resolve("memory").resolve("memory.limit_in_bytes");
    return Files.isRegularFile(v1) ? Optional.of(v1) : Optional.empty();
  }

  /** A cgroup limit in bytes; empty for "max" (no limit) or an unreadable file. */
  private static OptionalLong readLimit(Path file) {
    try {
      String value = Files.readString(file).strip();
      return value.equals("max") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(value));
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static long physicalMemory() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return Long.MAX_VALUE; // unknown: only a configured figure can refuse
  }
}
