package io.shoplens.processor.inference;

import io.shoplens.processor.inference.bundle.Dtype;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.generation.EncoderDecoderBatch;
import io.shoplens.processor.inference.t5.T5Manifest;
import java.util.Locale;
import java.util.Map;

/**
 * What a generation bundle needs in memory under an {@link EngineConfig}, worked out before
 * anything is loaded: a lower bound, for refusing to start a model that cannot fit ({@link
 * MemoryCheck}) rather than failing halfway through loading it.
 *
 * <p>Counted: the weights (the bundle's graph files, external data included: ONNX Runtime holds
 * them in memory as they are on disk, in the bundle's dtype); the KV budget (keys and values of
 * every layer per token row, twice, since past and present tensors alternate in two buffers); the
 * image-prefix cache's capacity and the vision cache's query embeddings (float32 in Java whatever
 * the dtype). Not counted: ONNX Runtime's working memory for activations (grows with batch and
 * prompt length), a prefill's temporary cache while rows join, the JVM's heap.
 *
 * @param dtype the bundle's dtype
 * @param weightBytes bytes of the graph files (*.onnx, *.onnx.data)
 * @param kvBytesPerToken keys and values of every layer for one token of one row
 * @param kvTokens the KV budget in token rows ({@link EngineConfig#kvBudgetTokens(long, int)})
 * @param kvBytes {@code 2 * kvTokens * kvBytesPerToken}
 * @param rowTokens one row at the model's full length ({@code max_position_embeddings}): the least
 *     KV budget with which every valid request can still run
 * @param prefixCacheBytes the image-prefix cache's capacity
 * @param visionCacheBytes the vision cache's query embeddings at capacity
 */
public record MemoryEstimate(
    Dtype dtype,
    long weightBytes,
    long kvBytesPerToken,
    long kvTokens,
    long kvBytes,
    long rowTokens,
    long prefixCacheBytes,
    long visionCacheBytes) {

  /** The estimate for a bundle's manifest (its file sizes and dimensions) under a config. */
  public static MemoryEstimate of(ModelManifest manifest, EngineConfig config) {
    long weights = weightBytes(manifest.files());
    ModelManifest.Text t = manifest.text();
    long perToken = 2L * t.numLayers() * t.numHeads() * t.headDim() * manifest.dtype().bytes();
    long tokens = config.kvBudgetTokens(perToken, t.maxPositionEmbeddings());
    long vision =
        (long) config.visionCacheEntries()
            * manifest.numQueryTokens()
            * t.hiddenSize()
            * Float.BYTES;
    return new MemoryEstimate(
        manifest.dtype(),
        weights,
        perToken,
        tokens,
        2 * tokens * perToken,
        t.maxPositionEmbeddings(),
        config.prefixCacheBytes(),
        vision);
  }

  /** Everything counted. */
  /**
   * The estimate for a T5 bundle (float32 only): a row's KV is its cross KV (one column per encoder
   * position, up to {@link T5Model#MAX_ENCODER_TOKENS}) plus its decoder's self KV (one column per
   * generated token, up to {@link DecodingOptions#MAX_NEW_TOKENS_LIMIT}); no prefix cache, since
   * image-prefix reuse does not apply to T5.
   */
  public static MemoryEstimate of(T5Manifest manifest, EngineConfig config) {
    T5Manifest.Text t = manifest.text();
    long perToken = EncoderDecoderBatch.bytesPerToken(t);
    long row = T5Model.rowTokens();
    long tokens = config.kvBudgetTokens(perToken, (int) row);
    long vision =
        (long) config.visionCacheEntries()
            * manifest.numQueryTokens()
            * t.hiddenSize()
            * Float.BYTES;
    return new MemoryEstimate(
        Dtype.FLOAT32,
        weightBytes(manifest.files()),
        perToken,
        tokens,
        2 * tokens * perToken,
        row,
        0,
        vision);
  }

  private static long weightBytes(Map<String, ModelManifest.FileEntry> files) {
    long weights = 0;
    for (Map.Entry<String, ModelManifest.FileEntry> f : files.entrySet()) {
      if (f.getKey().endsWith(".onnx") || f.getKey().endsWith(".onnx.data")) {
        weights += f.getValue().bytes();
      }
    }
    return weights;
  }

  public long totalBytes() {
    return weightBytes + kvBytes + prefixCacheBytes + visionCacheBytes;
  }

  /**
   * The least the model can run in: everything counted, but a KV budget of one row at full length
   * instead of the configured one (a smaller budget only makes requests wait, never fail).
   */
  public long minimumBytes() {
    return totalBytes() - kvBytes + 2 * rowTokens * kvBytesPerToken;
  }

  /**
   * The KV budget in bytes ({@code shoplens.inference.kv.budget.bytes}) that fits in {@code
   * available} beside the weights and caches, or 0 when not even that does.
   */
  public long kvBudgetFitting(long available) {
    return Math.max(0, (available - (totalBytes() - kvBytes)) / 2);
  }

  /** One line: the total and its parts, with how the KV figure was computed. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "%s: weights %s (%s graph files), KV cache %s (2 buffers x %d token rows x %s per token),"
            + " prefix cache %s, vision cache %s",
        human(totalBytes()),
        human(weightBytes),
        dtype,
        human(kvBytes),
        kvTokens,
        human(kvBytesPerToken),
        human(prefixCacheBytes),
        human(visionCacheBytes));
  }

  /** Bytes in binary units, one decimal: {@code 7.2 GiB}, {@code 256.0 MiB}, {@code 12.0 KiB}. */
  public static String human(long bytes) {
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
      return bytes + " B";
    }
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}
