package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.shoplens.processor.inference.InferenceException;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Tensor chores every model's graph calls share: running a graph with its inputs closed however the
 * call ends, reading a float output, and the one wording of a failed graph call (the inputs' names,
 * shapes and types), so that the generation and retrieval models report failures alike.
 */
public final class OrtTensors {
  private OrtTensors() {}

  /** Creates a graph call's input tensors into the map it is given. */
  @FunctionalInterface
  public interface Inputs {
    void put(Map<String, OnnxTensor> inputs) throws OrtException;
  }

  /** Reads what a graph call needs from its result, before the result is closed. */
  @FunctionalInterface
  public interface Outputs<T> {
    T read(OrtSession.Result result) throws OrtException;
  }

  /**
   * Runs {@code session} on the tensors {@code in} creates and returns what {@code out} reads of
   * the result. Every input tensor is closed, whether the call succeeds or not; a failure (of ONNX
   * Runtime, or of {@code in} or {@code out}) is reported as {@link #failure} words it.
   *
   * @param fallback what to say about the inputs when none was created yet
   */
  public static <T> T run(
      OrtSession session,
      String modelVersion,
      String graph,
      Inputs in,
      Outputs<T> out,
      String fallback) {
    Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
    try {
      in.put(inputs);
      try (OrtSession.Result result = session.run(inputs)) {
        return out.read(result);
      }
    } catch (OrtException | RuntimeException e) {
      throw failure(modelVersion, graph, inputs, e, fallback);
    } finally {
      closeAll(inputs);
    }
  }

  /**
   * As {@link #run(OrtSession, String, String, Inputs, Outputs, String)}, computing only the
   * outputs named in {@code outputs} (a graph's other outputs are neither computed beyond what
   * these need nor copied out).
   */
  public static <T> T run(
      OrtSession session,
      String modelVersion,
      String graph,
      Inputs in,
      Set<String> outputs,
      Outputs<T> out,
      String fallback) {
    Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
    try {
      in.put(inputs);
      try (OrtSession.Result result = session.run(inputs, outputs)) {
        return out.read(result);
      }
    } catch (OrtException | RuntimeException e) {
      throw failure(modelVersion, graph, inputs, e, fallback);
    } finally {
      closeAll(inputs);
    }
  }

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
