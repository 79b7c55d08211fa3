package io.shoplens.processor.inference.retrieval;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.image.ImagePreprocessor;
import io.shoplens.processor.inference.image.VisionPreprocessing;
import io.shoplens.processor.inference.onnx.OrtRuntime;
import io.shoplens.processor.inference.onnx.OrtTensors;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A BLIP-2 retrieval bundle on ONNX Runtime: batched image features, text features and ITM match
 * probabilities, as Hugging Face's {@code Blip2ForImageTextRetrieval} computes them.
 *
 * <p>Sessions are created once in {@link #open}. Every tensor and result is closed before a method
 * returns; ONNX Runtime failures surface as {@link InferenceException} naming the model version,
 * the graph and the input shapes. Thread-safe (ONNX Runtime sessions and the tokenizer are).
 */
public final class RetrievalModel implements AutoCloseable {
  /** Vision graph: pixel values to patch embeddings and query features. */
  public static final String VISION = "vision.onnx";

  /** Text graph: token ids to the [CLS] text feature. */
  public static final String TEXT = "text.onnx";

  /** Image-text matching graph. */
  public static final String ITM = "itm.onnx";

  /** Optional graph: the vision tower's output to image features ({@link #featuresFromTower}). */
  public static final String IMAGE_FEATURES = RetrievalBundle.IMAGE_FEATURES;

  /**
   * An image through the vision graph: its query features (ITC) and the vision tower output that
   * the ITM graph cross-attends to. Computed once per image and reused for both.
   *
   * @param features Q unit vectors
   * @param patchEmbeds P * Hv floats, row-major
   */
  public record EncodedImage(ImageFeatures features, float[] patchEmbeds) {}

  /**
   * One image-text pair for ITM.
   *
   * @param image the encoded image
   * @param text the text, tokenized and truncated like every other text
   */
  public record Pair(EncodedImage image, String text) {}

  private final OrtEnvironment env = OrtRuntime.environment();
  private final RetrievalBundle bundle;
  private final RetrievalManifest manifest;
  private final RetrievalTokenizer tokenizer;
  private final ImagePreprocessor images;
  private final OrtSession vision;
  private final OrtSession text;
  private final OrtSession itm;
  private final OrtSession imageFeatures; // null: a bundle exported before image_features.onnx

  /**
   * @param sessions the bundle's graphs by file name; {@link #IMAGE_FEATURES} only where the bundle
   *     has it
   */
  private RetrievalModel(
      RetrievalBundle bundle, RetrievalTokenizer tokenizer, Map<String, OrtSession> sessions) {
    this.bundle = bundle;
    this.manifest = bundle.manifest();
    this.tokenizer = tokenizer;
    this.vision = sessions.get(VISION);
    this.text = sessions.get(TEXT);
    this.itm = sessions.get(ITM);
    this.imageFeatures = sessions.get(IMAGE_FEATURES);
    this.images = new ImagePreprocessor(VisionPreprocessing.of(manifest.vision()));
  }

  /**
   * Loads and validates a retrieval bundle and opens its three graphs (four with {@link
   * #IMAGE_FEATURES}).
   *
   * @throws BundleException if the bundle is invalid or a graph cannot be loaded
   * @throws EngineStartupException if the configured execution provider cannot be used
   */
  public static RetrievalModel open(Path bundleDirectory, EngineConfig config) {
    RetrievalBundle bundle = RetrievalBundle.load(bundleDirectory);
    OrtEnvironment env = OrtRuntime.environment();
    List<String> graphs = new ArrayList<>(List.of(VISION, TEXT, ITM));
    if (bundle.manifest().hasImageFeaturesGraph()) {
      graphs.add(IMAGE_FEATURES);
    }
    List<AutoCloseable> opened = new ArrayList<>();
    try (OrtSession.SessionOptions options = OrtRuntime.sessionOptions(config)) {
      RetrievalTokenizer tokenizer = RetrievalTokenizer.load(bundle);
      opened.add(tokenizer);
      Map<String, OrtSession> sessions = new HashMap<>();
      for (String graph : graphs) {
        sessions.put(
            graph, OrtRuntime.openSession(env, bundle.file(graph), options, config, opened));
      }
      return new RetrievalModel(bundle, tokenizer, sessions);
    } catch (RuntimeException e) {
      OrtRuntime.closeQuietly(opened);
      throw e;
    }
  }

  /** The validated manifest. */
  public RetrievalManifest manifest() {
    return manifest;
  }

  /** What results computed by this model carry. */
  public String modelVersion() {
    return manifest.modelVersion();
  }

  /** D, the length of every text feature and query vector. */
  public int embedDim() {
    return manifest.retrieval().embedDim();
  }

  /** The tokenizer (for length checks before a text is accepted). */
  public RetrievalTokenizer tokenizer() {
    return tokenizer;
  }

  /** The bundle this model was opened from. */
  public RetrievalBundle bundle() {
    return bundle;
  }

  /**
   * Decodes and preprocesses encoded image bytes into one image's pixel values.
   *
   * @throws io.shoplens.processor.inference.image.ImageDecodeException if the bytes are no image
   */
  public float[] preprocess(byte[] imageBytes) {
    return images.preprocess(imageBytes);
  }

  /** Runs the vision graph on decoded image bytes, batched. */
  public List<EncodedImage> encodeImages(List<byte[]> imageBytes) {
    List<float[]> pixels = new ArrayList<>(imageBytes.size());
    for (byte[] b : imageBytes) {
      pixels.add(preprocess(b));
    }
    return encodePixels(pixels);
  }

  /**
   * Runs the vision graph on preprocessed pixel values ([3, S, S] each), batched.
   *
   * @return one encoded image per input, in order
   */
  public List<EncodedImage> encodePixels(List<float[]> pixelValues) {
    if (pixelValues.isEmpty()) {
      return List.of();
    }
    int size = manifest.vision().imageSize();
    int perImage = 3 * size * size;
    int batch = pixelValues.size();
    float[] pixels = new float[batch * perImage];
    for (int i = 0; i < batch; i++) {
      float[] p = pixelValues.get(i);
      if (p.length != perImage) {
        throw new IllegalArgumentException(
            "image " + i + ": expected " + perImage + " pixel values, got " + p.length);
      }
      System.arraycopy(p, 0, pixels, i * perImage, perImage);
    }
    long[] shape = {batch, 3, size, size};
    return OrtTensors.run(
        vision,
        manifest.modelVersion(),
        VISION,
        in -> in.put("pixel_values", OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), shape)),
        result -> encodedImages(result, batch),
        "");
  }

  private List<EncodedImage> encodedImages(OrtSession.Result result, int batch)
      throws OrtException {
    float[] embeds = OrtTensors.floats(result, "image_embeds");
    float[] features = OrtTensors.floats(result, "image_features");
    int q = manifest.numQueryTokens();
    int d = embedDim();
    int perEmbeds = embeds.length / batch;
    List<EncodedImage> out = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      out.add(
          new EncodedImage(
              new ImageFeatures(q, d, Arrays.copyOfRange(features, i * q * d, (i + 1) * q * d)),
              Arrays.copyOfRange(embeds, i * perEmbeds, (i + 1) * perEmbeds)));
    }
    return out;
  }

  /**
   * Whether the bundle has {@code image_features.onnx}, so that {@link #featuresFromTower} can turn
   * a vision tower output computed elsewhere into this model's image features.
   */
  public boolean derivesFeaturesFromTower() {
    return imageFeatures != null;
  }

  /**
   * Image features from the vision tower's output, without a tower pass: {@code
   * image_features.onnx}, batched. Equal (within float rounding) to {@link #encodePixels}' features
   * when {@code imageEmbeds} come from a tower with this bundle's {@code vision_tower.sha256} on
   * pixels preprocessed as this bundle's {@code vision} says.
   *
   * @param imageEmbeds [batch, P, Hv] row-major
   * @param batch number of images
   * @return one {@link ImageFeatures} per image, in order
   * @throws IllegalStateException when the bundle has no {@code image_features.onnx}
   */
  public List<ImageFeatures> featuresFromTower(float[] imageEmbeds, int batch) {
    if (imageFeatures == null) {
      throw new IllegalStateException(
          manifest.modelVersion() + ": the bundle has no " + IMAGE_FEATURES + "; re-export it");
    }
    RetrievalManifest.Retrieval r = manifest.retrieval();
    long perImage = (long) r.numPatches() * r.visionHiddenSize();
    if (batch < 1 || imageEmbeds.length != batch * perImage) {
      throw new IllegalArgumentException(
          "expected "
              + batch
              + " x "
              + r.numPatches()
              + " x "
              + r.visionHiddenSize()
              + " tower output floats, got "
              + imageEmbeds.length);
    }
    long[] shape = {batch, r.numPatches(), r.visionHiddenSize()};
    int q = manifest.numQueryTokens();
    int d = embedDim();
    return OrtTensors.run(
        imageFeatures,
        manifest.modelVersion(),
        IMAGE_FEATURES,
        in ->
            in.put(
                "image_embeds", OnnxTensor.createTensor(env, FloatBuffer.wrap(imageEmbeds), shape)),
        result -> {
          float[] all = OrtTensors.floats(result, "image_features");
          List<ImageFeatures> out = new ArrayList<>(batch);
          for (int i = 0; i < batch; i++) {
            out.add(new ImageFeatures(q, d, Arrays.copyOfRange(all, i * q * d, (i + 1) * q * d)));
          }
          return out;
        },
        "");
  }

  /**
   * Text features ([CLS] through the text projection, L2-normalised), batched: texts are padded on
   * the right to the longest in the batch.
   *
   * @return one D-float unit vector per text, in order
   */
  public List<float[]> textFeatures(List<String> texts) {
    if (texts.isEmpty()) {
      return List.of();
    }
    Tokens tokens = tokens(texts);
    int d = embedDim();
    return OrtTensors.run(
        text,
        manifest.modelVersion(),
        TEXT,
        tokens::putInto,
        result -> {
          float[] all = OrtTensors.floats(result, "text_features");
          List<float[]> out = new ArrayList<>(texts.size());
          for (int i = 0; i < texts.size(); i++) {
            out.add(Arrays.copyOfRange(all, i * d, (i + 1) * d));
          }
          return out;
        },
        "");
  }

  /**
   * ITM match probabilities, batched: {@code softmax(itm_logits)[match]} for each (image, text).
   */
  public float[] matchProbabilities(List<Pair> pairs) {
    float[] logits = matchLogits(pairs);
    int match = manifest.retrieval().itmMatchIndex();
    float[] out = new float[pairs.size()];
    for (int i = 0; i < out.length; i++) {
      double a = logits[2 * i];
      double b = logits[2 * i + 1];
      double m = Math.max(a, b);
      double ea = Math.exp(a - m);
      double eb = Math.exp(b - m);
      out[i] = (float) ((match == 1 ? eb : ea) / (ea + eb));
    }
    return out;
  }

  /** Raw ITM logits [pairs, 2] (no match, match), row-major. */
  public float[] matchLogits(List<Pair> pairs) {
    if (pairs.isEmpty()) {
      return new float[0];
    }
    List<String> texts = new ArrayList<>(pairs.size());
    for (Pair p : pairs) {
      texts.add(p.text());
    }
    Tokens tokens = tokens(texts);
    RetrievalManifest.Retrieval r = manifest.retrieval();
    int perImage = r.numPatches() * r.visionHiddenSize();
    float[] embeds = new float[pairs.size() * perImage];
    for (int i = 0; i < pairs.size(); i++) {
      float[] e = pairs.get(i).image().patchEmbeds();
      if (e.length != perImage) {
        throw new IllegalArgumentException(
            "pair " + i + ": expected " + perImage + " patch embedding floats, got " + e.length);
      }
      System.arraycopy(e, 0, embeds, i * perImage, perImage);
    }
    long[] shape = {pairs.size(), r.numPatches(), r.visionHiddenSize()};
    return OrtTensors.run(
        itm,
        manifest.modelVersion(),
        ITM,
        in -> {
          in.put("image_embeds", OnnxTensor.createTensor(env, FloatBuffer.wrap(embeds), shape));
          tokens.putInto(in);
        },
        result -> OrtTensors.floats(result, "itm_logits"),
        "");
  }

  @Override
  public void close() {
    List<AutoCloseable> all = new ArrayList<>(List.of(vision, text, itm, tokenizer));
    if (imageFeatures != null) {
      all.add(imageFeatures);
    }
    OrtRuntime.closeQuietly(all);
  }

  /** Token ids and mask of a batch, right-padded to its longest row. */
  private record Tokens(OrtEnvironment env, long[] ids, long[] mask, int batch, int length) {
    /** Puts {@code input_ids} and {@code attention_mask}. */
    void putInto(Map<String, OnnxTensor> inputs) throws OrtException {
      long[] shape = {batch, length};
      inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
      inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
    }
  }

  private Tokens tokens(List<String> texts) {
    List<long[]> rows = new ArrayList<>(texts.size());
    int longest = 0;
    for (String t : texts) {
      long[] ids = tokenizer.encode(t);
      rows.add(ids);
      longest = Math.max(longest, ids.length);
    }
    long pad = manifest.retrieval().padTokenId();
    long[] ids = new long[texts.size() * longest];
    long[] mask = new long[ids.length];
    for (int i = 0; i < rows.size(); i++) {
      long[] row = rows.get(i);
      for (int j = 0; j < longest; j++) {
        boolean real = j < row.length;
        ids[i * longest + j] = real ? row[j] : pad;
        mask[i * longest + j] = real ? 1 : 0;
      }
    }
    return new Tokens(env, ids, mask, texts.size(), longest);
  }
}
