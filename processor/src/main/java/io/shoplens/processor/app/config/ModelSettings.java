package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.EngineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The model and inference group: which bundle, and how the engine runs it. Defaults are {@link
 * EngineConfig#defaults()}'s; settings not listed here keep them.
 */
public final class ModelSettings {
  public static final String GROUP = "Model and inference";

  // First: the defaults below read it during class initialisation.
  private static final EngineConfig DEFAULTS = EngineConfig.defaults();

  public static final String MODEL_PATH_CONFIG = "shoplens.model.path";
  public static final String MODEL_PATH_DOC =
      "Directory of the model bundle (manifest.json, vision/embed/decoder.onnx, tokenizer.json),"
          + " as written by model-export. Its checksums are verified at start.";

  public static final String EXECUTION_PROVIDER_CONFIG = "shoplens.inference.execution.provider";
  public static final String EXECUTION_PROVIDER_DEFAULT = DEFAULTS.executionProvider().name();
  public static final String EXECUTION_PROVIDER_DOC =
      "Where the graphs run: CPU, or CUDA (needs the -Pcuda build or the CUDA image, an NVIDIA"
          + " GPU, CUDA 12 and cuDNN 9).";

  public static final String CUDA_DEVICE_ID_CONFIG = "shoplens.inference.cuda.device.id";
  public static final int CUDA_DEVICE_ID_DEFAULT = DEFAULTS.cudaDeviceId();
  public static final String CUDA_DEVICE_ID_DOC = "GPU ordinal used with the CUDA provider.";

  public static final String INTRA_OP_THREADS_CONFIG = "shoplens.inference.intra.op.threads";
  public static final int INTRA_OP_THREADS_DEFAULT = DEFAULTS.intraOpThreads();
  public static final String INTRA_OP_THREADS_DOC =
      "ONNX Runtime threads inside one operator; 0 lets ONNX Runtime choose (one per core).";

  public static final String INTER_OP_THREADS_CONFIG = "shoplens.inference.inter.op.threads";
  public static final int INTER_OP_THREADS_DEFAULT = DEFAULTS.interOpThreads();
  public static final String INTER_OP_THREADS_DOC =
      "ONNX Runtime threads across independent operators; 0 lets ONNX Runtime choose.";

  public static final String BATCH_MAX_SIZE_CONFIG = "shoplens.inference.batch.max.size";
  public static final int BATCH_MAX_SIZE_DEFAULT = DEFAULTS.maxBatchSize();
  public static final String BATCH_MAX_SIZE_DOC = "Most requests decoded together in one batch.";

  public static final String BATCH_MAX_WAIT_MS_CONFIG = "shoplens.inference.batch.max.wait.ms";
  public static final long BATCH_MAX_WAIT_MS_DEFAULT = DEFAULTS.maxBatchWait().toMillis();
  public static final String BATCH_MAX_WAIT_MS_DOC =
      "Longest a request waits for others to fill its batch (latency traded for throughput).";

  public static final String QUEUE_CAPACITY_CONFIG = "shoplens.inference.queue.capacity";
  public static final int QUEUE_CAPACITY_DEFAULT = DEFAULTS.queueCapacity();
  public static final String QUEUE_CAPACITY_DOC =
      "Most requests waiting for the engine; a full queue pushes back on the stream threads.";

  public static final String VISION_CACHE_SIZE_CONFIG = "shoplens.inference.vision.cache.size";
  public static final int VISION_CACHE_SIZE_DEFAULT = DEFAULTS.visionCacheEntries();
  public static final String VISION_CACHE_SIZE_DOC =
      "Images whose query embeddings are kept (by image hash and model version), so follow-up"
          + " questions skip the vision graph; 0 disables the cache.";

  public static final String SCHEDULER_CONFIG = "shoplens.inference.scheduler";
  public static final String SCHEDULER_DEFAULT =
      DEFAULTS.scheduler().name().toLowerCase(Locale.ROOT);
  public static final String SCHEDULER_DOC =
      "When waiting requests join the decoding batch: static (a batch forms within"
          + " batch.max.wait.ms and decodes until its last request finishes) or continuous (after"
          + " every decoder step finished requests leave and waiting ones join).";

  public static final String KV_BUDGET_TOKENS_CONFIG = "shoplens.inference.kv.budget.tokens";
  public static final long KV_BUDGET_TOKENS_DEFAULT = DEFAULTS.kvBudgetTokens();
  public static final String KV_BUDGET_TOKENS_DOC =
      "Most token rows (rows x positions) the decoding batch's KV cache holds; requests wait"
          + " when it is full. 0: batch.max.size x the model's positions. Set this or"
          + " kv.budget.bytes, not both.";

  public static final String KV_BUDGET_BYTES_CONFIG = "shoplens.inference.kv.budget.bytes";
  public static final long KV_BUDGET_BYTES_DEFAULT = DEFAULTS.kvBudgetBytes();
  public static final String KV_BUDGET_BYTES_DOC =
      "The KV budget in bytes (the process holds up to twice it: past and present alternate);"
          + " 0: use kv.budget.tokens.";

  public static final String PREFIX_CACHE_BYTES_CONFIG = "shoplens.inference.prefix.cache.bytes";
  public static final long PREFIX_CACHE_BYTES_DEFAULT = DEFAULTS.prefixCacheBytes();
  public static final String PREFIX_CACHE_BYTES_DOC =
      "Bytes of image-prefix KV kept (by image hash and model version, least recently used"
          + " evicted), so every prompt about an image reuses the keys and values of its image"
          + " positions; 0 disables reuse.";

  public static final String MEMORY_CHECK_CONFIG = "shoplens.inference.memory.check";
  public static final boolean MEMORY_CHECK_DEFAULT = DEFAULTS.memoryCheck();
  public static final String MEMORY_CHECK_DOC =
      "Whether the engine refuses to start when the model's least estimated memory (weights in the"
          + " bundle's dtype, the prefix and vision caches, the KV of one full-length row twice;"
          + " shown by `shoplens model info`) exceeds the memory available, instead of running out"
          + " of memory while loading; when only the whole KV budget does not fit it starts with a"
          + " warning naming the kv.budget.bytes that fits.";

  public static final String MEMORY_AVAILABLE_BYTES_CONFIG =
      "shoplens.inference.memory.available.bytes";
  public static final long MEMORY_AVAILABLE_BYTES_DEFAULT = DEFAULTS.memoryAvailableBytes();
  public static final String MEMORY_AVAILABLE_BYTES_DOC =
      "The memory the model may use, for memory.check; 0: detect it as physical memory (or the"
          + " cgroup limit in /sys/fs/cgroup/memory.max when lower) less the JVM's max heap.";

  private ModelSettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            MODEL_PATH_CONFIG,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            MODEL_PATH_DOC)
        .define(
            EXECUTION_PROVIDER_CONFIG,
            Type.STRING,
            EXECUTION_PROVIDER_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in("CPU", "CUDA"),
            Importance.HIGH,
            EXECUTION_PROVIDER_DOC)
        .define(
            CUDA_DEVICE_ID_CONFIG,
            Type.INT,
            CUDA_DEVICE_ID_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            CUDA_DEVICE_ID_DOC)
        .define(
            INTRA_OP_THREADS_CONFIG,
            Type.INT,
            INTRA_OP_THREADS_DEFAULT,
            Range.atLeast(0),
            Importance.MEDIUM,
            INTRA_OP_THREADS_DOC)
        .define(
            INTER_OP_THREADS_CONFIG,
            Type.INT,
            INTER_OP_THREADS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            INTER_OP_THREADS_DOC)
        .define(
            BATCH_MAX_SIZE_CONFIG,
            Type.INT,
            BATCH_MAX_SIZE_DEFAULT,
            Range.between(1, 1024),
            Importance.MEDIUM,
            BATCH_MAX_SIZE_DOC)
        .define(
            BATCH_MAX_WAIT_MS_CONFIG,
            Type.LONG,
            BATCH_MAX_WAIT_MS_DEFAULT,
            Range.between(0, 60_000),
            Importance.MEDIUM,
            BATCH_MAX_WAIT_MS_DOC)
        .define(
            QUEUE_CAPACITY_CONFIG,
            Type.INT,
            QUEUE_CAPACITY_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            QUEUE_CAPACITY_DOC)
        .define(
            VISION_CACHE_SIZE_CONFIG,
            Type.INT,
            VISION_CACHE_SIZE_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            VISION_CACHE_SIZE_DOC)
        .define(
            SCHEDULER_CONFIG,
            Type.STRING,
            SCHEDULER_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in("static", "continuous"),
            Importance.MEDIUM,
            SCHEDULER_DOC)
        .define(
            KV_BUDGET_TOKENS_CONFIG,
            Type.LONG,
            KV_BUDGET_TOKENS_DEFAULT,
            Range.atLeast(0),
            Importance.MEDIUM,
            KV_BUDGET_TOKENS_DOC)
        .define(
            KV_BUDGET_BYTES_CONFIG,
            Type.LONG,
            KV_BUDGET_BYTES_DEFAULT,
            Range.atLeast(0),
            Importance.MEDIUM,
            KV_BUDGET_BYTES_DOC)
        .define(
            PREFIX_CACHE_BYTES_CONFIG,
            Type.LONG,
            PREFIX_CACHE_BYTES_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            PREFIX_CACHE_BYTES_DOC)
        .define(
            MEMORY_CHECK_CONFIG,
            Type.BOOLEAN,
            MEMORY_CHECK_DEFAULT,
            null,
            Importance.LOW,
            MEMORY_CHECK_DOC)
        .define(
            MEMORY_AVAILABLE_BYTES_CONFIG,
            Type.LONG,
            MEMORY_AVAILABLE_BYTES_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            MEMORY_AVAILABLE_BYTES_DOC);
  }

  static void check(ShopLensConfig c, List<String> problems) {
    if (c.getLong(KV_BUDGET_TOKENS_CONFIG) > 0 && c.getLong(KV_BUDGET_BYTES_CONFIG) > 0) {
      problems.add(
          KV_BUDGET_TOKENS_CONFIG
              + " and "
              + KV_BUDGET_BYTES_CONFIG
              + ": expected at most one of them set, found both");
    }
    Path model = modelPath(c);
    if (!Files.isDirectory(model)) {
      problems.add(PathProblems.expectedAt(MODEL_PATH_CONFIG, "a model bundle directory", model));
    } else if (!Files.isRegularFile(model.resolve("manifest.json"))) {
      problems.add(
          MODEL_PATH_CONFIG
              + ": "
              + model.toAbsolutePath()
              + " has no manifest.json (export a bundle with model-export first)");
    }
  }

  static Path modelPath(ShopLensConfig c) {
    return Path.of(c.getString(MODEL_PATH_CONFIG));
  }

  /** The engine's settings; those without a key keep {@link EngineConfig#defaults()}. */
  static EngineConfig engineConfig(ShopLensConfig c) {
    return EngineConfig.builder()
        .executionProvider(
            EngineConfig.ExecutionProvider.valueOf(
                c.getString(EXECUTION_PROVIDER_CONFIG).toUpperCase(Locale.ROOT)))
        .cudaDeviceId(c.getInt(CUDA_DEVICE_ID_CONFIG))
        .intraOpThreads(c.getInt(INTRA_OP_THREADS_CONFIG))
        .interOpThreads(c.getInt(INTER_OP_THREADS_CONFIG))
        .maxBatchSize(c.getInt(BATCH_MAX_SIZE_CONFIG))
        .maxBatchWait(Duration.ofMillis(c.getLong(BATCH_MAX_WAIT_MS_CONFIG)))
        .queueCapacity(c.getInt(QUEUE_CAPACITY_CONFIG))
        .visionCacheEntries(c.getInt(VISION_CACHE_SIZE_CONFIG))
        .closeTimeout(c.shutdownTimeout())
        .scheduler(
            EngineConfig.Scheduler.valueOf(c.getString(SCHEDULER_CONFIG).toUpperCase(Locale.ROOT)))
        .kvBudgetTokens(c.getLong(KV_BUDGET_TOKENS_CONFIG))
        .kvBudgetBytes(c.getLong(KV_BUDGET_BYTES_CONFIG))
        .prefixCacheBytes(c.getLong(PREFIX_CACHE_BYTES_CONFIG))
        .memoryCheck(c.getBoolean(MEMORY_CHECK_CONFIG))
        .memoryAvailableBytes(c.getLong(MEMORY_AVAILABLE_BYTES_CONFIG))
        .build();
  }
}
