package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.shoplens.processor.inference.bundle.GenerationManifest;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.Set;

/**
 * The two graphs every BLIP-2 generation bundle (OPT and T5) exports with the same signature, run
 * the same way for both: vision ({@code pixel_values [B, 3, S, S] -> query_embeds [B, Q, H]}) and
 * embed ({@code input_ids [B, T] -> inputs_embeds [B, T, H]}). Their float tensors are of the
 * bundle's {@link ElementType}; Java sees floats either way.
 */
public final class PrefixGraphs {
  private static final String QUERY_EMBEDS = "query_embeds";

  private PrefixGraphs() {}

  /**
   * One vision pass's outputs: the language model's image tokens and, when asked for, the vision
   * tower's output.
   *
   * @param queryEmbeds [batch, Q, H] row-major
   * @param imageEmbeds [batch, P, Hv] row-major, or null when not asked for
   */
  public record VisionPass(float[] queryEmbeds, float[] imageEmbeds) {}

  /**
   * Runs the vision graph for its query embeddings and, with {@code withTower}, the tower output
   * the manifest's {@code vision_tower.output} names. Without it only query_embeds is read: a
   * bundle that exposes its tower would otherwise copy P x Hv floats per image out for nothing.
   *
   * @param manifest the bundle's manifest: the image size, and the version errors are labelled with
   * @param pixels [batch, 3, S, S] row-major
   * @throws IllegalStateException with {@code withTower}, when the manifest has no {@code
   *     vision_tower} (a bundle exported before it existed: callers ask {@code exposesTower()})
   */
  public static VisionPass vision(
      OrtEnvironment env,
      ElementType type,
      OrtSession vision,
      GenerationManifest manifest,
      float[] pixels,
      int batch,
      boolean withTower) {
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
        Blip2Graphs.VISION,
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
  public static float[] inputEmbeds(
      OrtEnvironment env,
      ElementType type,
      OrtSession embed,
      String modelVersion,
      long[] ids,
      int batch,
      int seq) {
    long[] shape = {batch, seq};
    return OrtTensors.run(
        embed,
        modelVersion,
        Blip2Graphs.EMBED,
        in -> in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape)),
        result -> type.floats(output(result, "inputs_embeds")),
        "input_ids" + Arrays.toString(shape));
  }

  private static OnnxTensor output(OrtSession.Result result, String name) {
    return (OnnxTensor)
        result
            .get(name)
            .orElseThrow(() -> new IllegalStateException("graph produced no output " + name));
  }
}
