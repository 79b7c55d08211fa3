package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.shoplens.processor.inference.InferenceException;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Tensor chores every model's graph calls share: reading a float output, closing inputs, and the
 * one wording of a failed graph call (the inputs' names, shapes and types), so that the generation
 * and retrieval models report failures alike.
 */
public final class OrtTensors {
  private OrtTensors() {}

  /**
   * A graph failure in words, or {@code e} itself when it already is an {@link InferenceException}.
   *
   * @param modelVersion the model the graph belongs to
   * @param graph the graph's name
   * @param inputs the inputs created before the failure
   * @param e what failed
   * @param fallback what to say about the inputs when none was created yet
   */
  public static InferenceException failure(
      String modelVersion,
      String graph,
      Map<String, OnnxTensor> inputs,
      Exception e,
      String fallback) {
    if (e instanceof InferenceException ie) {
      return ie;
    }
    StringJoiner shapes = new StringJoiner(", ");
    for (Map.Entry<String, OnnxTensor> in : inputs.entrySet()) {
      TensorInfo info = in.getValue().getInfo();
      shapes.add(in.getKey() + Arrays.toString(info.getShape()) + " " + info.type);
    }
    return new InferenceException(
        "model "
            + modelVersion
            + ": "
            + graph
            + " failed on inputs {"
            + (inputs.isEmpty() ? fallback : shapes.toString())
            + "}: "
            + e.getMessage(),
        e);
  }

  /** The float output {@code name} of {@code result}, copied out of the native buffer. */
  public static float[] floats(OrtSession.Result result, String name) throws OrtException {
    OnnxTensor tensor =
        (OnnxTensor)
            result
                .get(name)
                .orElseThrow(() -> new IllegalStateException("graph produced no output " + name));
    FloatBuffer buffer = tensor.getFloatBuffer();
    float[] out = new float[buffer.remaining()];
    buffer.get(out);
    return out;
  }

  /** Closes every tensor of a graph call's inputs or outputs. */
  public static void closeAll(Map<String, OnnxTensor> tensors) {
    for (OnnxTensor t : tensors.values()) {
      t.close();
    }
  }
}
