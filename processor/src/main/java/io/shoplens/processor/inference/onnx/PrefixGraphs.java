package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.LongBuffer;
import java.util.Arrays;

/**
 * The two graphs every BLIP-2 generation bundle (OPT and T5) exports with the same signature, run
 * the same way for both: vision ({@code pixel_values [B, 3, S, S] -> query_embeds [B, Q, H]}) and
 * embed ({@code input_ids [B, T] -> inputs_embeds [B, T, H]}). Their float tensors are of the
 * bundle's {@link ElementType}; Java sees floats either way.
 */
public final class PrefixGraphs {
  private PrefixGraphs() {}

  /**
   * Runs the vision graph.
   *
   * @param pixels [batch, 3, S, S] row-major, S = {@code imageSize}
   * @return query embeddings [batch, Q, H] row-major
   */
  public static float[] queryEmbeds(
      OrtEnvironment env,
      ElementType type,
      OrtSession vision,
      String modelVersion,
      float[] pixels,
      int batch,
      int imageSize) {
    long[] shape = {batch, 3, imageSize, imageSize};
    return OrtTensors.run(
        vision,
        modelVersion,
        Blip2Graphs.VISION,
        in -> in.put("pixel_values", type.tensor(env, pixels, shape)),
        result -> type.floats(output(result, "query_embeds")),
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
