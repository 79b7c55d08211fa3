package io.shoplens.processor.inference;

import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.generation.BatchDecoder;
import io.shoplens.processor.inference.generation.DecodingBatch;
import io.shoplens.processor.inference.generation.Hypothesis;
import io.shoplens.processor.inference.generation.PrefixStore;
import io.shoplens.processor.inference.generation.RunningBatch;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.text.Blip2Tokenizer;
import io.shoplens.processor.inference.text.PromptBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * BLIP-2 on ONNX Runtime, synchronously: a loaded bundle's graphs, tokenizer and image
 * preprocessing, and the pieces the batching engine composes (prepare, encode images, decode). No
 * queue, no cache: {@link BatchingInferenceEngine} adds those.
 *
 * <p>Thread-safe for concurrent calls, but meant to be driven by one thread (the engine's worker).
 */
public final class Blip2Model extends VisionLanguageModel<ModelBundle, Blip2Graphs> {
  private final PromptBuilder prompts;
  private final BatchDecoder decoder;

  private Blip2Model(ModelBundle bundle, Blip2Graphs graphs) {
    super(bundle, graphs);
    this.prompts = new PromptBuilder(bundle.manifest(), tokenizer);
    this.decoder = new BatchDecoder(graphs);
  }

  /** Loads a bundle directory and opens its graphs. */
  public static Blip2Model open(Path bundleDirectory, EngineConfig config) {
    return open(ModelBundle.load(bundleDirectory), config);
  }

  /**
   * Opens a loaded bundle's graphs and tokenizer, after checking that the model fits in memory.
   *
   * @throws EngineStartupException when it does not fit ({@link MemoryCheck}), before any graph is
   *     loaded
   */
  public static Blip2Model open(ModelBundle bundle, EngineConfig config) {
    MemoryCheck.require(bundle.manifest(), config);
    return build(Blip2Graphs.open(bundle, config), graphs -> new Blip2Model(bundle, graphs));
  }

  public ModelManifest manifest() {
    return bundle.manifest();
  }

  /** OPT's decoder is causal: the query positions' KV depends on the image alone. */
  @Override
  public boolean reusesImagePrefixes() {
    return true;
  }

  /**
   * A request after its cheap preprocessing: prompt ids and the image's cache key. The image itself
   * is not decoded here: {@link #decodeImage} is the separate, explicit step the engine takes only
   * on a vision cache miss. Most requests about an upload (its attribute prompts, every question)
   * hit the cache, and decoding and resizing the image again for each of them took about 1 ms of
   * the engine's single worker thread per request (a 128 x 128 PNG), where a whole request on the
   * tiny test model takes about 2 ms.
   *
   * @param request the request
   * @param promptIds image tokens then text ids
   * @param imageSha256 hex sha256 of the image bytes (or of the pixel tensor's bytes): the vision
   *     cache key
   * @param preprocessNanos time spent on the prompt and the digest
   */
  public record Prepared(
      GenerationRequest request, long[] promptIds, String imageSha256, long preprocessNanos) {}

  /**
   * A prepared request with its image's query embeddings: what decoding needs.
   *
   * @param prepared the prepared request
   * @param queryEmbeds the image's query embeddings, [Q * H]
   * @param preprocessNanos preprocessing time, image decoding included when this request did it
   * @param visionNanos vision graph time spent for this request (0 on a cache hit)
   * @param visionCacheHit whether the embeddings came from a cache
   */
  public record Encoded(
      Prepared prepared,
      float[] queryEmbeds,
      long preprocessNanos,
      long visionNanos,
      boolean visionCacheHit) {}

  /**
   * Digests the image and builds the prompt ids; the image itself is decoded only by {@link
   * #decodeImage}.
   *
   * @throws IllegalArgumentException for a wrong pixel tensor size, or a prompt that is too long or
   *     contains the image token
   */
  @Override
  public Prepared prepare(GenerationRequest request) {
    long start = System.nanoTime();
    ModelManifest m = bundle.manifest();
    String sha = imageKey(request, m.vision());
    String text = prompts.text(request.prompt(), request.question(), request.history());
    long[] ids = prompts.promptIds(text);
    int q = m.numQueryTokens();
    for (int i = q; i < ids.length; i++) {
      if (ids[i] == m.tokens().imageTokenId()) {
        throw new IllegalArgumentException(
            "request " + request.requestId() + ": the prompt text contains the image token");
      }
    }
    int limit = m.text().maxPositionEmbeddings();
    if (ids.length + request.options().maxNewTokens() > limit) {
      throw new IllegalArgumentException(
          "request "
              + request.requestId()
              + ": prompt of "
              + ids.length
              + " tokens plus maxNewTokens "
              + request.options().maxNewTokens()
              + " exceeds the model's "
              + limit
              + " positions");
    }
    return new Prepared(request, ids, sha, System.nanoTime() - start);
  }

  /**
   * The vision cache key of a request's image: the sha256 of its bytes, or of its pixel tensor
   * (checked against the bundle's image size). Shared by every generation model.
   *
   * @throws IllegalArgumentException for a pixel tensor of the wrong size
   */
  static String imageKey(GenerationRequest request, ModelManifest.Vision vision) {
    if (request.pixelValues() == null) {
      return ImageDigest.sha256Hex(request.image());
    }
    float[] pixels = request.pixelValues();
    if (pixels.length != vision.pixelCount()) {
      throw new IllegalArgumentException(
          "request "
              + request.requestId()
              + ": pixel values have "
              + pixels.length
              + " floats, expected 3 x "
              + vision.imageSize()
              + " x "
              + vision.imageSize()
              + " = "
              + vision.pixelCount());
    }
    ByteBuffer bytes = ByteBuffer.allocate(4 * pixels.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(pixels);
    return "pixels-" + ImageDigest.sha256Hex(bytes.array());
  }

  /**
   * Decodes encoded requests as one static batch.
   *
   * @return one result per request, in the order given
   */
  public List<GenerationResult> decode(List<Encoded> batch) {
    List<BatchDecoder.Input> inputs = new ArrayList<>();
    for (Encoded e : batch) {
      Prepared p = e.prepared();
      inputs.add(
          new BatchDecoder.Input(
              p.promptIds(), e.queryEmbeds(), p.request().options(), p.request().seed()));
    }
    List<BatchDecoder.Output> outputs = decoder.decode(inputs);
    List<GenerationResult> results = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      results.add(result(batch.get(i), outputs.get(i)));
    }
    return results;
  }

  @Override
  public <T> DecodingBatch<T> newBatch(EngineConfig config, PrefixStore prefixes) {
    ModelManifest.Text t = bundle.manifest().text();
    long bytesPerToken =
        2L * t.numLayers() * t.numHeads() * t.headDim() * bundle.manifest().dtype().bytes();
    return new RunningBatch<>(
        graphs,
        config.maxBatchSize(),
        config.kvBudgetTokens(bytesPerToken, t.maxPositionEmbeddings()),
        prefixes);
  }

  @Override
  public GenerationResult result(Encoded encoded, RunningBatch.Finished<?> finished) {
    return result(
        encoded,
        new BatchDecoder.Output(
            finished.hypotheses(), finished.prefillNanos(), finished.decodeNanos()));
  }

  private GenerationResult result(Encoded e, BatchDecoder.Output out) {
    return result(
        modelVersion(), tokenizer, e, out.hypotheses(), out.prefillNanos(), out.decodeNanos());
  }

  /**
   * A request's result from its decoded hypotheses (best first), for every generation model: texts
   * through the bundle's tokenizer, token counts, timings.
   */
  static GenerationResult result(
      String modelVersion,
      Blip2Tokenizer tokenizer,
      Encoded e,
      List<Hypothesis> hypotheses,
      long prefillNanos,
      long decodeNanos) {
    Prepared p = e.prepared();
    List<GenerationResult.Sequence> sequences = new ArrayList<>();
    for (Hypothesis h : hypotheses) {
      sequences.add(
          new GenerationResult.Sequence(
              tokenizer.decode(h.tokens()), h.tokens(), h.reason(), h.score()));
    }
    GenerationResult.Sequence best = sequences.get(0);
    return new GenerationResult(
        p.request().requestId(),
        modelVersion,
        best.text(),
        best.tokenIds(),
        best.finishReason(),
        p.promptIds().length,
        best.tokenIds().length,
        best.score(),
        sequences.subList(1, sequences.size()),
        new StageTimings(
            Duration.ofNanos(e.preprocessNanos()),
            Duration.ofNanos(e.visionNanos()),
            Duration.ofNanos(prefillNanos),
            Duration.ofNanos(decodeNanos)),
        e.visionCacheHit());
  }

  /**
   * Everything for a batch, synchronously and without a cache (identical images in the batch are
   * decoded and encoded once). The first failing request fails the call.
   */
  public List<GenerationResult> generate(List<GenerationRequest> requests) {
    List<Prepared> prepared = new ArrayList<>();
    for (GenerationRequest r : requests) {
      prepared.add(prepare(r));
    }
    Map<String, Integer> unique = new LinkedHashMap<>();
    List<float[]> pixels = new ArrayList<>();
    for (Prepared p : prepared) {
      if (!unique.containsKey(p.imageSha256())) {
        unique.put(p.imageSha256(), pixels.size());
        pixels.add(decodeImage(p));
      }
    }
    long start = System.nanoTime();
    List<float[]> encoded = encodeImages(pixels);
    long visionNanos = System.nanoTime() - start;
    List<Encoded> batch = new ArrayList<>();
    for (Prepared p : prepared) {
      float[] embeds = encoded.get(unique.get(p.imageSha256()));
      batch.add(new Encoded(p, embeds, p.preprocessNanos(), visionNanos, false));
    }
    return decode(batch);
  }
}
