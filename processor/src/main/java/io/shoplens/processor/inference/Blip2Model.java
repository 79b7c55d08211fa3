package io.shoplens.processor.inference;

import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.generation.BatchDecoder;
import io.shoplens.processor.inference.generation.Hypothesis;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.inference.image.ImagePreprocessor;
import io.shoplens.processor.inference.image.VisionPreprocessing;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.text.Blip2Tokenizer;
import io.shoplens.processor.inference.text.PromptBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
public final class Blip2Model implements EngineModel {
  private final ModelBundle bundle;
  private final Blip2Graphs graphs;
  private final Blip2Tokenizer tokenizer;
  private final PromptBuilder prompts;
  private final ImagePreprocessor images;
  private final BatchDecoder decoder;

  private Blip2Model(ModelBundle bundle, Blip2Graphs graphs, Blip2Tokenizer tokenizer) {
    this.bundle = bundle;
    this.graphs = graphs;
    this.tokenizer = tokenizer;
    ModelManifest m = bundle.manifest();
    this.prompts = new PromptBuilder(m, tokenizer);
    ModelManifest.Vision v = m.vision();
    this.images =
        new ImagePreprocessor(
            new VisionPreprocessing(
                v.imageSize(),
                VisionPreprocessing.Resample.fromManifest(v.resample()),
                v.doRescale(),
                v.rescaleFactor(),
                v.doNormalize(),
                v.imageMean().stream().mapToDouble(Double::doubleValue).toArray(),
                v.imageStd().stream().mapToDouble(Double::doubleValue).toArray(),
                v.doConvertRgb()));
    this.decoder = new BatchDecoder(graphs);
  }

  /** Loads a bundle directory and opens its graphs. */
  public static Blip2Model open(Path bundleDirectory, EngineConfig config) {
    return open(ModelBundle.load(bundleDirectory), config);
  }

  /** Opens a loaded bundle's graphs and tokenizer. */
  public static Blip2Model open(ModelBundle bundle, EngineConfig config) {
    Blip2Graphs graphs = Blip2Graphs.open(bundle, config);
    try {
      return new Blip2Model(bundle, graphs, Blip2Tokenizer.load(bundle));
    } catch (RuntimeException e) {
      graphs.close();
      throw e;
    }
  }

  public ModelManifest manifest() {
    return bundle.manifest();
  }

  @Override
  public String modelVersion() {
    return bundle.manifest().modelVersion();
  }

  @Override
  public int numQueryTokens() {
    return bundle.manifest().numQueryTokens();
  }

  /**
   * A request after preprocessing: prompt ids, the image's cache key and, on demand, its pixels.
   *
   * <p>The pixels are decoded and resized only when {@link #pixels()} is first called: the engine
   * asks only on a vision cache miss. Most requests about an upload (its attribute prompts, every
   * question) hit the cache, and decoding and resizing the image again for each of them took about
   * 1 ms of the engine's single worker thread per request (a 128 x 128 PNG), where a whole request
   * on the tiny test model takes about 2 ms.
   *
   * <p>Not thread-safe: one thread (the engine's worker) uses it.
   */
  public static final class Prepared {
    private final GenerationRequest request;
    private final long[] promptIds;
    private final String imageSha256;
    private final ImagePreprocessor images;
    private float[] pixels;
    private long preprocessNanos;

    private Prepared(
        GenerationRequest request,
        long[] promptIds,
        float[] pixels,
        String imageSha256,
        ImagePreprocessor images,
        long preprocessNanos) {
      this.request = request;
      this.promptIds = promptIds;
      this.pixels = pixels;
      this.imageSha256 = imageSha256;
      this.images = images;
      this.preprocessNanos = preprocessNanos;
    }

    /** The request. */
    public GenerationRequest request() {
      return request;
    }

    /** Image tokens then text ids. */
    public long[] promptIds() {
      return promptIds;
    }

    /** Hex sha256 of the image bytes (or of the pixel tensor's bytes): the vision cache key. */
    public String imageSha256() {
      return imageSha256;
    }

    /**
     * CHW pixel values, decoded and preprocessed on the first call.
     *
     * @throws io.shoplens.processor.inference.image.ImageDecodeException (a runtime exception) if
     *     the image bytes cannot be decoded
     */
    public float[] pixels() {
      if (pixels == null) {
        long start = System.nanoTime();
        pixels = images.preprocess(request.image());
        preprocessNanos += System.nanoTime() - start;
      }
      return pixels;
    }

    /** Whether the pixels are there: given with the request, or decoded by {@link #pixels()}. */
    boolean hasPixels() {
      return pixels != null;
    }

    /** Time spent preparing so far: prompt and digest, plus the pixels once they were asked for. */
    public long preprocessNanos() {
      return preprocessNanos;
    }
  }

  /**
   * Digests the image and builds the prompt ids; the image itself is decoded only when {@link
   * Prepared#pixels()} is called.
   *
   * @throws IllegalArgumentException for a wrong pixel tensor size, or a prompt that is too long or
   *     contains the image token
   */
  @Override
  public Prepared prepare(GenerationRequest request) {
    long start = System.nanoTime();
    ModelManifest m = bundle.manifest();
    float[] pixels;
    String sha;
    if (request.pixelValues() != null) {
      pixels = request.pixelValues();
      if (pixels.length != m.vision().pixelCount()) {
        throw new IllegalArgumentException(
            "request "
                + request.requestId()
                + ": pixel values have "
                + pixels.length
                + " floats, expected 3 x "
                + m.vision().imageSize()
                + " x "
                + m.vision().imageSize()
                + " = "
                + m.vision().pixelCount());
      }
      ByteBuffer bytes = ByteBuffer.allocate(4 * pixels.length).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(pixels);
      sha = "pixels-" + ImageDigest.sha256Hex(bytes.array());
    } else {
      sha = ImageDigest.sha256Hex(request.image());
      pixels = null; // on demand: Prepared.pixels()
    }
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
    return new Prepared(request, ids, pixels, sha, images, System.nanoTime() - start);
  }

  /**
   * Runs the vision graph on a batch of images.
   *
   * @return query embeddings per image, [Q * H] each
   */
  @Override
  public List<float[]> encodeImages(List<float[]> pixels) {
    int n = pixels.size();
    int count = bundle.manifest().vision().pixelCount();
    float[] batch = new float[n * count];
    for (int i = 0; i < n; i++) {
      System.arraycopy(pixels.get(i), 0, batch, i * count, count);
    }
    float[] out = graphs.vision(batch, n);
    int per = out.length / n;
    List<float[]> result = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      float[] one = new float[per];
      System.arraycopy(out, i * per, one, 0, per);
      result.add(one);
    }
    return result;
  }

  /**
   * Decodes prepared requests as one batch.
   *
   * @param prepared the requests
   * @param queryEmbeds each request's image embeddings
   * @param visionNanos each request's vision time (0 on a cache hit)
   * @param cacheHits whether each request's embeddings came from a cache
   */
  @Override
  public List<GenerationResult> decode(
      List<Prepared> prepared,
      List<float[]> queryEmbeds,
      List<Long> visionNanos,
      List<Boolean> cacheHits) {
    List<BatchDecoder.Input> inputs = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      Prepared p = prepared.get(i);
      inputs.add(
          new BatchDecoder.Input(
              p.promptIds(), queryEmbeds.get(i), p.request().options(), p.request().seed()));
    }
    List<BatchDecoder.Output> outputs = decoder.decode(inputs);
    List<GenerationResult> results = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      Prepared p = prepared.get(i);
      BatchDecoder.Output out = outputs.get(i);
      List<GenerationResult.Sequence> sequences = new ArrayList<>();
      for (Hypothesis h : out.hypotheses()) {
        sequences.add(
            new GenerationResult.Sequence(
                tokenizer.decode(h.tokens()), h.tokens(), h.reason(), h.score()));
      }
      GenerationResult.Sequence best = sequences.get(0);
      results.add(
          new GenerationResult(
              p.request().requestId(),
              modelVersion(),
              best.text(),
              best.tokenIds(),
              best.finishReason(),
              p.promptIds().length,
              best.tokenIds().length,
              best.score(),
              sequences.subList(1, sequences.size()),
              new StageTimings(
                  Duration.ofNanos(p.preprocessNanos()),
                  Duration.ofNanos(visionNanos.get(i)),
                  Duration.ofNanos(out.prefillNanos()),
                  Duration.ofNanos(out.decodeNanos())),
              cacheHits.get(i)));
    }
    return results;
  }

  /**
   * Everything for a batch, synchronously and without a cache (identical images in the batch are
   * encoded once). The first failing request fails the call.
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
        pixels.add(p.pixels());
      }
    }
    long start = System.nanoTime();
    List<float[]> encoded = encodeImages(pixels);
    long visionNanos = System.nanoTime() - start;
    Map<String, float[]> byKey = new HashMap<>();
    unique.forEach((key, index) -> byKey.put(key, encoded.get(index)));
    List<float[]> embeds = new ArrayList<>();
    List<Long> nanos = new ArrayList<>();
    List<Boolean> hits = new ArrayList<>();
    for (Prepared p : prepared) {
      embeds.add(byKey.get(p.imageSha256()));
      nanos.add(visionNanos);
      hits.add(false);
    }
    return decode(prepared, embeds, nanos, hits);
  }

  @Override
  public void close() {
    tokenizer.close();
    graphs.close();
  }
}
