package io.shoplens.processor.inference;

import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.GenerationManifest;
import io.shoplens.processor.inference.image.ImagePreprocessor;
import io.shoplens.processor.inference.image.VisionPreprocessing;
import io.shoplens.processor.inference.onnx.PrefixGraphs;
import io.shoplens.processor.inference.text.Blip2Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The half every BLIP-2 generation model does the same way, OPT ({@link Blip2Model}) or Flan-T5
 * ({@link T5Model}): it holds the bundle, its graphs and its tokenizer (closed with the model), and
 * does the image step (a request's pixels, or its bytes decoded and preprocessed as the manifest
 * says) and one vision pass over a batch of images, handing the vision tower's output to a tap
 * where the bundle exposes it. The language-model half is each subclass's own.
 *
 * @param <B> the bundle kind
 * @param <G> its graphs
 */
abstract class VisionLanguageModel<B extends GenerationBundle, G extends PrefixGraphs<?>>
    implements EngineModel {
  final B bundle;
  final G graphs;
  final Blip2Tokenizer tokenizer;
  private final ImagePreprocessor images;
  private final int pixelCount;

  /**
   * A model on a loaded bundle's open graphs, with the bundle's tokenizer.
   *
   * @throws io.shoplens.processor.inference.bundle.BundleException if the tokenizer cannot be read
   */
  VisionLanguageModel(B bundle, G graphs) {
    this.tokenizer = Blip2Tokenizer.load(bundle);
    this.bundle = bundle;
    this.graphs = graphs;
    GenerationManifest manifest = bundle.manifest();
    this.images = new ImagePreprocessor(VisionPreprocessing.of(manifest.vision()));
    this.pixelCount = manifest.vision().pixelCount();
  }

  /**
   * The model {@code create} builds on {@code graphs}, which are closed if that fails (a tokenizer
   * that cannot be read, say).
   */
  static <G extends PrefixGraphs<?>, M extends VisionLanguageModel<?, G>> M build(
      G graphs, Function<G, M> create) {
    try {
      return create.apply(graphs);
    } catch (RuntimeException e) {
      graphs.close();
      throw e;
    }
  }

  @Override
  public final String modelVersion() {
    return bundle.modelVersion();
  }

  @Override
  public final int numQueryTokens() {
    return bundle.numQueryTokens();
  }

  /**
   * The explicit image step: the request's pixel tensor as given, or its image bytes decoded and
   * preprocessed to CHW pixel values.
   *
   * @throws io.shoplens.processor.inference.image.ImageDecodeException (a runtime exception) if the
   *     image bytes cannot be decoded
   */
  @Override
  public final float[] decodeImage(Blip2Model.Prepared prepared) {
    GenerationRequest request = prepared.request();
    return request.pixelValues() != null
        ? request.pixelValues()
        : images.preprocess(request.image());
  }

  /**
   * Runs the vision graph on a batch of images.
   *
   * @return query embeddings per image, [Q * H] each
   */
  @Override
  public final List<float[]> encodeImages(List<float[]> pixels) {
    int n = pixels.size();
    return perImage(graphs.vision(stack(pixels), n), n);
  }

  @Override
  public final boolean exposesTower() {
    return graphs.exposesTower();
  }

  @Override
  public final List<float[]> encodeImages(List<float[]> pixels, List<String> keys, VisionTap tap) {
    if (!exposesTower()) {
      return encodeImages(pixels);
    }
    int n = pixels.size();
    PrefixGraphs.VisionPass pass = graphs.visionWithTower(stack(pixels), n);
    tap.towerOutput(keys, pass.imageEmbeds());
    return perImage(pass.queryEmbeds(), n);
  }

  /** Concatenated pixel tensors, [n * 3 * S * S], for one vision pass. */
  private float[] stack(List<float[]> pixels) {
    float[] batch = new float[pixels.size() * pixelCount];
    for (int i = 0; i < pixels.size(); i++) {
      System.arraycopy(pixels.get(i), 0, batch, i * pixelCount, pixelCount);
    }
    return batch;
  }

  /** The vision graph's [n, Q, H] output split into one [Q * H] array per image. */
  private static List<float[]> perImage(float[] out, int n) {
    int per = out.length / n;
    List<float[]> result = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      float[] one = new float[per];
      System.arraycopy(out, i * per, one, 0, per);
      result.add(one);
    }
    return result;
  }

  @Override
  public final void close() {
    tokenizer.close();
    graphs.close();
  }
}
