package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.EngineConfig;
import java.nio.file.Files;
import java.nio.file.Path;
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
  static final SettingGroup SETTINGS = new SettingGroup("Model and inference");

  // First: the defaults below read it during class initialisation.
  private static final EngineConfig DEFAULTS = EngineConfig.defaults();

  public static final Setting MODEL_PATH =
      SETTINGS
          .required("shoplens.model.path", Type.STRING, new ConfigDef.NonEmptyString())
          .importance(Importance.HIGH)
          .doc(
              "Directory of the model bundle (manifest.json, vision/embed/decoder.onnx, tokenizer.json),"
                  + " as written by model-export. Its checksums are verified at start.");

  public static final Setting EXECUTION_PROVIDER =
      SETTINGS
          .define("shoplens.inference.execution.provider", DEFAULTS.executionProvider())
          .importance(Importance.HIGH)
          .doc(
              "Where the graphs run: CPU, or CUDA (needs the -Pcuda build or the CUDA image, an NVIDIA"
                  + " GPU, CUDA 12 and cuDNN 9).");

  public static final Setting CUDA_DEVICE_ID =
      SETTINGS
          .define("shoplens.inference.cuda.device.id", DEFAULTS.cudaDeviceId(), Range.atLeast(0))
          .doc("GPU ordinal used with the CUDA provider.");

  public static final Setting INTRA_OP_THREADS =
      SETTINGS
          .define(
              "shoplens.inference.intra.op.threads", DEFAULTS.intraOpThreads(), Range.atLeast(0))
          .importance(Importance.MEDIUM)
          .doc(
              "ONNX Runtime threads inside one operator; 0 lets ONNX Runtime choose (one per core).");

  public static final Setting INTER_OP_THREADS =
      SETTINGS
          .define(
              "shoplens.inference.inter.op.threads", DEFAULTS.interOpThreads(), Range.atLeast(0))
          .doc("ONNX Runtime threads across independent operators; 0 lets ONNX Runtime choose.");

  public static final Setting BATCH_MAX_SIZE =
      SETTINGS
          .define(
              "shoplens.inference.batch.max.size", DEFAULTS.maxBatchSize(), Range.between(1, 1024))
          .importance(Importance.MEDIUM)
          .doc("Most requests decoded together in one batch.");

  public static final Setting BATCH_MAX_WAIT_MS =
      SETTINGS
          .define(
              "shoplens.inference.batch.max.wait.ms",
              DEFAULTS.maxBatchWait(),
              Range.between(0, 60_000))
          .importance(Importance.MEDIUM)
          .doc(
              "Longest a request waits for others to fill its batch (latency traded for throughput).");

  public static final Setting QUEUE_CAPACITY =
      SETTINGS
          .define("shoplens.inference.queue.capacity", DEFAULTS.queueCapacity(), Range.atLeast(1))
          .importance(Importance.MEDIUM)
          .doc(
              "Most requests waiting for the engine; a full queue pushes back on the stream threads.");

  public static final Setting VISION_CACHE_SIZE =
      SETTINGS
          .define(
              "shoplens.inference.vision.cache.size",
              DEFAULTS.visionCacheEntries(),
              Range.atLeast(0))
          .doc(
              "Images whose query embeddings are kept (by image hash and model version), so follow-up"
                  + " questions skip the vision graph; 0 disables the cache.");

  public static final Setting SCHEDULER =
      SETTINGS
          .define(
              "shoplens.inference.scheduler",
              DEFAULTS.scheduler().name().toLowerCase(Locale.ROOT),
              ConfigDef.CaseInsensitiveValidString.in("static", "continuous"))
          .importance(Importance.MEDIUM)
          .doc(
              "When waiting requests join the decoding batch: static (a batch forms within"
                  + " batch.max.wait.ms and decodes until its last request finishes) or continuous (after"
                  + " every decoder step finished requests leave and waiting ones join).");

  public static final Setting KV_BUDGET_TOKENS =
      SETTINGS
          .define(
              "shoplens.inference.kv.budget.tokens", DEFAULTS.kvBudgetTokens(), Range.atLeast(0))
          .importance(Importance.MEDIUM)
          .doc(
              "Most token rows (rows x positions) the decoding batch's KV cache holds; requests wait"
                  + " when it is full. 0: batch.max.size x the model's positions. Set this or"
                  + " kv.budget.bytes, not both.");

  public static final Setting KV_BUDGET_BYTES =
      SETTINGS
          .define("shoplens.inference.kv.budget.bytes", DEFAULTS.kvBudgetBytes(), Range.atLeast(0))
          .importance(Importance.MEDIUM)
          .doc(
              "The KV budget in bytes (the process holds up to twice it: past and present alternate);"
                  + " 0: use kv.budget.tokens.");

  public static final Setting PREFIX_CACHE_BYTES =
      SETTINGS
          .define(
              "shoplens.inference.prefix.cache.bytes",
              DEFAULTS.prefixCacheBytes(),
              Range.atLeast(0))
          .doc(
              "Bytes of image-prefix KV kept (by image hash and model version, least recently used"
                  + " evicted), so every prompt about an image reuses the keys and values of its image"
                  + " positions; 0 disables reuse.");

  public static final Setting MEMORY_CHECK =
      SETTINGS
          .define("shoplens.inference.memory.check", DEFAULTS.memoryCheck())
          .doc(
              "Whether the engine refuses to start when the model's least estimated memory (weights in the"
                  + " bundle's dtype, the prefix and vision caches, the KV of one full-length row twice;"
                  + " shown by `shoplens model info`) exceeds the memory available, instead of running out"
                  + " of memory while loading; when only the whole KV budget does not fit it starts with a"
                  + " warning naming the kv.budget.bytes that fits.");

  public static final Setting MEMORY_AVAILABLE_BYTES =
      SETTINGS
          .define(
              "shoplens.inference.memory.available.bytes",
              DEFAULTS.memoryAvailableBytes(),
              Range.atLeast(0))
          .doc(
              "The memory the model may use, for memory.check; 0: detect it as physical memory (or the"
                  + " cgroup limit in /sys/fs/cgroup/memory.max when lower) less the JVM's max heap.");

  private ModelSettings() {}

  static void check(ShopLensConfig c, List<String> problems) {
    if (c.getLong(KV_BUDGET_TOKENS.name()) > 0 && c.getLong(KV_BUDGET_BYTES.name()) > 0) {
      problems.add(
          KV_BUDGET_TOKENS.name()
              + " and "
              + KV_BUDGET_BYTES.name()
              + ": expected at most one of them set, found both");
    }
    Path model = modelPath(c);
    if (!Files.isDirectory(model)) {
      problems.add(PathProblems.expectedAt(MODEL_PATH.name(), "a model bundle directory", model));
    } else if (!Files.isRegularFile(model.resolve("manifest.json"))) {
      problems.add(
          MODEL_PATH.name()
              + ": "
              + model.toAbsolutePath()
              + " has no manifest.json (export a bundle with model-export first)");
    }
  }

  static Path modelPath(ShopLensConfig c) {
    return Path.of(c.getString(MODEL_PATH.name()));
  }

  /** The engine's settings; those without a key keep {@link EngineConfig#defaults()}. */
  static EngineConfig engineConfig(ShopLensConfig c) {
    return EngineConfig.builder()
        .executionProvider(
            c.getEnum(EXECUTION_PROVIDER.name(), EngineConfig.ExecutionProvider.class))
        .cudaDeviceId(c.getInt(CUDA_DEVICE_ID.name()))
        .intraOpThreads(c.getInt(INTRA_OP_THREADS.name()))
        .interOpThreads(c.getInt(INTER_OP_THREADS.name()))
        .maxBatchSize(c.getInt(BATCH_MAX_SIZE.name()))
        .maxBatchWait(c.getDuration(BATCH_MAX_WAIT_MS.name()))
        .queueCapacity(c.getInt(QUEUE_CAPACITY.name()))
        .visionCacheEntries(c.getInt(VISION_CACHE_SIZE.name()))
        .closeTimeout(c.shutdownTimeout())
        .scheduler(c.getEnum(SCHEDULER.name(), EngineConfig.Scheduler.class))
        .kvBudgetTokens(c.getLong(KV_BUDGET_TOKENS.name()))
        .kvBudgetBytes(c.getLong(KV_BUDGET_BYTES.name()))
        .prefixCacheBytes(c.getLong(PREFIX_CACHE_BYTES.name()))
        .memoryCheck(c.getBoolean(MEMORY_CHECK.name()))
        .memoryAvailableBytes(c.getLong(MEMORY_AVAILABLE_BYTES.name()))
        .build();
  }
}
