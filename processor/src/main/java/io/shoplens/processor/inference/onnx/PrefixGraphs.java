package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.GenerationManifest;
import io.shoplens.processor.inference.bundle.VisionTower;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The ONNX Runtime sessions of a BLIP-2 generation bundle, OPT ({@link Blip2Graphs}) or T5 ({@code
 * io.shoplens.processor.inference.t5.T5Graphs}), and the two graphs every such bundle exports with
 * the same signature, run the same way for both: vision ({@code pixel_values [B, 3, S, S] ->
 * query_embeds [B, Q, H]}) and embed ({@code input_ids [B, T] -> inputs_embeds [B, T, H]}). Their
 * float tensors are of the bundle's {@link ElementType}; Java sees floats either way.
 *
 * <p>{@link #open} creates a subclass's sessions together and checks them against the manifest;
 * when a session cannot be created or a graph disagrees with the manifest, the sessions already
 * created are closed. {@link #close} closes them all.
 *
 * @param <M> the bundle kind's manifest
 */
public abstract class PrefixGraphs<M extends GenerationManifest> implements AutoCloseable {
  /** Vision graph file name. */
  public static final String VISION = "vision.onnx";

  /** Embedding graph file name. */
  public static final String EMBED = "embed.onnx";

  /** A dimension that may be anything (a symbolic axis). */
  protected static final long ANY = GraphSignature.ANY;

  private static final String QUERY_EMBEDS = "query_embeds";

  /** ONNX Runtime's process-wide environment, which every tensor is created in. */
  protected final OrtEnvironment env = OrtRuntime.environment();

  /** The manifest these graphs were checked against. */
  protected final M manifest;

  /** The element type of the graphs' float tensors. */
  protected final ElementType type;

  private final OrtSession vision;
  private final OrtSession embed;
  private final List<OrtSession> sessions;

  /**
   * @param sessions every session of the bundle, by graph file name ({@link #VISION} and {@link
   *     #EMBED} among them), in the order they are closed
   */
  protected PrefixGraphs(M manifest, ElementType type, Map<String, OrtSession> sessions) {
    this.manifest = manifest;
    this.type = type;
    this.vision = sessions.get(VISION);
    this.embed = sessions.get(EMBED);
    this.sessions = List.copyOf(sessions.values());
  }

  /**
   * Creates the sessions of {@code files}, in that order, builds the graphs on them and checks
   * their declared inputs and outputs against the manifest ({@link #validate}).
   *
   * @param create the subclass's constructor, given the sessions by file name
   * @throws BundleException naming the graph file if a graph cannot be loaded or disagrees with the
   *     manifest
   * @throws EngineStartupException if the configured execution provider cannot be used
   */
  protected static <G extends PrefixGraphs<?>> G open(
      GenerationBundle bundle,
      EngineConfig config,
      List<String> files,
      Function<Map<String, OrtSession>, G> create) {
    OrtEnvironment env = OrtRuntime.environment();
    List<OrtSession> opened = new ArrayList<>();
    try (OrtSession.SessionOptions options = OrtRuntime.sessionOptions(config)) {
      Map<String, OrtSession> sessions = new LinkedHashMap<>();
      for (String file : files) {
        sessions.put(file, OrtRuntime.openSession(env, bundle.file(file), options, config, opened));
      }
      G graphs = create.apply(sessions);
      try {
        graphs.validate(bundle);
      } catch (OrtException e) {
        throw new BundleException(bundle.directory(), "cannot read graph metadata: " + e, e);
      }
      return graphs;
    } catch (RuntimeException e) {
      OrtRuntime.closeQuietly(opened);
      throw e;
    }
  }

  /**
   * Checks every graph's declared inputs and outputs against the manifest: the vision and embed
   * graphs through {@link #validatePrefix}, then the bundle kind's own.
   *
   * @throws BundleException naming the graph file that disagrees with the manifest
   */
  protected abstract void validate(GenerationBundle bundle) throws OrtException;

  /**
   * Checks the vision and embed graphs against the manifest.
   *
   * @param context what the expectations come from, named in every failure
   * @param hidden H, the language model's hidden size
   */
  protected final void validatePrefix(GenerationBundle bundle, String context, long hidden)
      throws OrtException {
    OnnxJavaType f = type.onnxType();
    long size = manifest.vision().imageSize();
    GraphSignature v = new GraphSignature(bundle.file(VISION), vision, context);
    v.input("pixel_values", f, ANY, 3, size, size);
    v.output(QUERY_EMBEDS, f, ANY, manifest.numQueryTokens(), hidden);
    if (manifest.visionTower().isPresent()) {
      VisionTower tower = manifest.visionTower().get();
      v.output(tower.output(), f, ANY, tower.numPatches(), tower.hiddenSize());
    }
    v.noOtherInputs();

    GraphSignature e = new GraphSignature(bundle.file(EMBED), embed, context);
    e.input("input_ids", OnnxJavaType.INT64, ANY, ANY);
    e.output("inputs_embeds", f, ANY, ANY, hidden);
    e.noOtherInputs();
  }

  /** The manifest these graphs were checked against. */
  public final M manifest() {
    return manifest;
  }

  /**
   * One vision pass's outputs: the language model's image tokens and, when asked for, the vision
   * tower's output.
   *
   * @param queryEmbeds [batch, Q, H] row-major
   * @param imageEmbeds [batch, P, Hv] row-major, or null when not asked for
   */
  public record VisionPass(float[] queryEmbeds, float[] imageEmbeds) {}

  /**
   * Runs the vision graph.
   *
   * @param pixels [batch, 3, S, S] row-major
   * @param batch number of images
   * @return query embeddings [batch, Q, H] row-major
   */
  public final float[] vision(float[] pixels, int batch) {
    return vision(pixels, batch, false).queryEmbeds();
  }

  /**
   * Runs the vision graph for its query embeddings and the vision tower's output; only for a bundle
   * whose manifest has a {@code vision_tower} (see {@link #exposesTower}).
   *
   * @param pixels [batch, 3, S, S] row-major
   * @param batch number of images
   * @throws IllegalStateException when the bundle does not expose its tower
   */
  public final VisionPass visionWithTower(float[] pixels, int batch) {
    return vision(pixels, batch, true);
  }

  /** Whether the vision graph also returns the vision tower's output (manifest vision_tower). */
  public final boolean exposesTower() {
    return manifest.visionTower().isPresent();
  }

  /**
   * Runs the vision graph for its query embeddings and, with {@code withTower}, the tower output
   * the manifest's {@code vision_tower.output} names. Without it only query_embeds is read: a
   * bundle that exposes its tower would otherwise copy P x Hv floats per image out for nothing.
   *
   * @param pixels [batch, 3, S, S] row-major
   * @throws IllegalStateException with {@code withTower}, when the manifest has no {@code
   *     vision_tower} (a bundle exported before it existed: callers ask {@code exposesTower()})
   */
  private VisionPass vision(float[] pixels, int batch, boolean withTower) {
    String tower =
        !withTower
            ? null
            : manifest
                .visionTower()
                .orElseThrow(
                    () -> new IllegalStateException(manifest.modelVersion() + ": no vision_tower"))
                .output();
    int size = manifest.vision().imageSize();
    long[] shape = {batch, 3, size, size};
    return OrtTensors.run(
        vision,
        manifest.modelVersion(),
        VISION,
        in -> in.put("pixel_values", type.tensor(env, pixels, shape)),
        tower == null ? Set.of(QUERY_EMBEDS) : Set.of(QUERY_EMBEDS, tower),
        result ->
            new VisionPass(
                type.floats(output(result, QUERY_EMBEDS)),
                tower == null ? null : type.floats(output(result, tower))),
        "pixel_values" + Arrays.toString(shape));
  }

  /**
   * Runs the embedding graph.
   *
   * @param ids [batch, seq] row-major token ids
   * @return embeddings [batch, seq, H] row-major
   */
  public final float[] embed(long[] ids, int batch, int seq) {
    long[] shape = {batch, seq};
    return OrtTensors.run(
        embed,
        manifest.modelVersion(),
        EMBED,
        in -> in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape)),
        result -> type.floats(output(result, "inputs_embeds")),
        "input_ids" + Arrays.toString(shape));
  }

  @Override
  public final void close() {
    OrtRuntime.closeQuietly(sessions);
  }

  private static OnnxTensor output(OrtSession.Result result, String name) {
    return (OnnxTensor)
        result
            .get(name)
            .orElseThrow(() -> new IllegalStateException("graph produced no output " + name));
  }
}
