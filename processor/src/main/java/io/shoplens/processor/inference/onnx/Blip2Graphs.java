package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.nio.ByteBuffer;
import java.nio.LongBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The three ONNX Runtime sessions of a BLIP-2 bundle (vision, embed, decoder), created once and
 * checked against the manifest's dimensions and dtype when opened. A float16 bundle's tensors are
 * float16 at every graph boundary ({@link ElementType}); callers see floats either way.
 *
 * <p>Every failure inside ONNX Runtime surfaces as an {@link InferenceException} naming the model
 * version, the graph and the shapes of its inputs. Every tensor and result is closed before a
 * method returns. Thread-safe (ONNX Runtime sessions are); {@link KvCache}s are not shared.
 */
public final class Blip2Graphs extends PrefixGraphs<ModelManifest> {
  /** Decoder graph file name. */
  public static final String DECODER = "decoder.onnx";

  /**
   * Largest KV cache storage kept idle between batches (caches, prefill logits). Typical batches (8
   * rows of a few hundred tokens of OPT-2.7b) stay well below; a rare huge one (many beams, long
   * outputs) is left to the garbage collector instead of being held for good.
   */
  static final long MAX_IDLE_CACHE_BYTES = 1L << 30;

  private final OrtSession decoder;
  private final String[] pastNames;
  private final String[] presentNames;
  private final AtomicReference<KvCache.Storage> idleStorage = new AtomicReference<>();

  private Blip2Graphs(ModelManifest manifest, Map<String, OrtSession> sessions) {
    super(manifest, ElementType.of(manifest.dtype()), sessions);
    this.decoder = sessions.get(DECODER);
    int layers = manifest.text().numLayers();
    pastNames = new String[2 * layers];
    presentNames = new String[2 * layers];
    for (int l = 0; l < layers; l++) {
      pastNames[2 * l] = "past_key_values." + l + ".key";
      pastNames[2 * l + 1] = "past_key_values." + l + ".value";
      presentNames[2 * l] = "present." + l + ".key";
      presentNames[2 * l + 1] = "present." + l + ".value";
    }
  }

  /**
   * Creates the sessions and checks their declared inputs and outputs against the manifest.
   *
   * @throws BundleException naming the graph file if a graph cannot be loaded or disagrees with the
   *     manifest
   * @throws EngineStartupException if the configured execution provider cannot be used
   */
  public static Blip2Graphs open(ModelBundle bundle, EngineConfig config) {
    return open(
        bundle,
        config,
        List.of(VISION, EMBED, DECODER),
        sessions -> new Blip2Graphs(bundle.manifest(), sessions));
  }

  /**
   * An empty KV cache for {@code batch} rows of at most {@code capacity} tokens, in the buffers of
   * the last {@linkplain #recycle recycled} cache when they are large enough.
   */
  public KvCache newCache(int batch, int capacity) {
    ModelManifest.Text t = manifest.text();
    long bytes = KvCache.tensorBytes(type, batch, t.numHeads(), t.headDim(), capacity);
    int tensors = 2 * t.numLayers();
    KvCache.Storage storage = idleStorage.getAndSet(null);
    if (storage == null || !storage.fits(tensors, bytes)) {
      storage = new KvCache.Storage(tensors, bytes);
    }
    return new KvCache(type, t.numLayers(), batch, t.numHeads(), t.headDim(), capacity, storage);
  }

  /**
   * Hands a cache that is no longer used back, so that the next {@link #newCache} reuses its
   * buffers instead of allocating (the caller must not touch {@code cache} afterwards).
   */
  public void recycle(KvCache cache) {
    KvCache.Storage storage = cache.storage();
    if (storage.bytes() <= MAX_IDLE_CACHE_BYTES) {
      idleStorage.set(storage);
    }
  }

  /**
   * Runs one decoder pass over {@code seq} new positions per row, reading and extending the cache.
   *
   * @param embeds [batch, seq, H] input embeddings
   * @param mask [batch, past + seq] attention mask (1 = attend)
   * @param positions [batch, seq] OPT position ids
   * @param cache the batch's KV cache (past length = its current length); advanced by {@code seq}
   * @param lastLogits receives the logits of each row's last position, [batch, V]
   */
  public void decode(
      float[] embeds, int seq, long[] mask, long[] positions, KvCache cache, float[] lastLogits) {
    int batch = cache.batch();
    int hidden = manifest.text().hiddenSize();
    int vocab = manifest.text().vocabSize();
    int heads = manifest.text().numHeads();
    int headDim = manifest.text().headDim();
    int past = cache.length();
    int total = past + seq;
    cache.reserve(total);
    Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
    Map<String, OnnxTensor> outputs = new LinkedHashMap<>();
    try {
      inputs.put("inputs_embeds", type.tensor(env, embeds, new long[] {batch, seq, hidden}));
      inputs.put(
          "attention_mask",
          OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {batch, total}));
      inputs.put(
          "position_ids",
          OnnxTensor.createTensor(env, LongBuffer.wrap(positions), new long[] {batch, seq}));
      long[] pastShape = {batch, heads, past, headDim};
      long[] presentShape = {batch, heads, total, headDim};
      for (int i = 0; i < pastNames.length; i++) {
        inputs.put(pastNames[i], type.tensor(env, cache.past(i), pastShape));
        outputs.put(presentNames[i], type.tensor(env, cache.presentTarget(i, total), presentShape));
      }
      // Format 2: logits of each row's last position only, [batch, 1, vocab].
      ByteBuffer logits = cache.logitsTarget(batch * vocab);
      outputs.put("logits", type.tensor(env, logits, new long[] {batch, 1, vocab}));
      // Outputs are pinned to our direct buffers: ONNX Runtime writes present key/values and
      // logits in place, so the KV cache is never copied on the CPU.
      try (OrtSession.Result result = decoder.run(inputs, outputs)) {
        if (result.size() != outputs.size()) {
          throw new IllegalStateException(
              "expected " + outputs.size() + " outputs, got " + result.size());
        }
      }
      // float16 logits are widened here: sampling and beam scores work in float.
      type.read(logits, 0, lastLogits, 0, batch * vocab);
      cache.advance(total);
    } catch (OrtException | RuntimeException e) {
      throw OrtTensors.failure(
          manifest.modelVersion(),
          DECODER,
          inputs,
          e,
          "batch " + batch + ", past " + past + ", new " + seq);
    } finally {
      OrtTensors.closeAll(inputs);
      OrtTensors.closeAll(outputs);
    }
  }

  // ---- validation against the manifest ----

  @Override
  protected void validate(GenerationBundle bundle) throws OrtException {
    ModelManifest.Text t = manifest.text();
    validatePrefix(bundle, layersContext(), t.hiddenSize());
    OnnxJavaType f = type.onnxType();
    GraphSignature d = new GraphSignature(bundle.file(DECODER), decoder, layersContext());
    d.input("inputs_embeds", f, ANY, ANY, t.hiddenSize());
    d.input("attention_mask", OnnxJavaType.INT64, ANY, ANY);
    d.input("position_ids", OnnxJavaType.INT64, ANY, ANY);
    d.output("logits", f, ANY, 1, t.vocabSize());
    for (int i = 0; i < pastNames.length; i++) {
      d.input(pastNames[i], f, ANY, t.numHeads(), ANY, t.headDim());
      d.output(presentNames[i], f, ANY, t.numHeads(), ANY, t.headDim());
    }
    d.noOtherInputs();
  }

  private String layersContext() {
    return "manifest text.num_layers="
        + manifest.text().numLayers()
        + ", dtype="
        + manifest.dtype();
  }
}
