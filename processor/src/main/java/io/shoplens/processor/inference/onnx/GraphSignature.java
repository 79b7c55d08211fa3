package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.shoplens.processor.inference.bundle.BundleException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Checks one graph's declared inputs and outputs against what a bundle's manifest implies, with
 * messages that name the graph file and say what was expected and what was found. Shared by the OPT
 * and T5 graph sets.
 */
public final class GraphSignature {
  /** A dimension that may be anything (a symbolic axis). */
  public static final long ANY = -1;

  private final Path file;
  private final String context;
  private final Map<String, NodeInfo> inputs;
  private final Map<String, NodeInfo> outputs;
  private final List<String> expectedInputs = new ArrayList<>();

  /**
   * @param file the graph file, named in every failure
   * @param session its session
   * @param context what the expectations come from, e.g. "manifest text.num_layers=2"
   */
  public GraphSignature(Path file, OrtSession session, String context) throws OrtException {
    this.file = file;
    this.context = context;
    this.inputs = session.getInputInfo();
    this.outputs = session.getOutputInfo();
  }

  /** Expects an input of this type and shape ({@link #ANY} for a free dimension). */
  public void input(String name, OnnxJavaType type, long... dims) {
    expectedInputs.add(name);
    check("input", inputs, name, type, dims);
  }

  /** Expects an output of this type and shape ({@link #ANY} for a free dimension). */
  public void output(String name, OnnxJavaType type, long... dims) {
    check("output", outputs, name, type, dims);
  }

  /** Fails if the graph declares an input that was not expected. */
  public void noOtherInputs() {
    for (String name : inputs.keySet()) {
      if (!expectedInputs.contains(name)) {
        throw new BundleException(
            file,
            "unexpected input '" + name + "'; expected only " + expectedInputs + " for " + context);
      }
    }
  }

  private void check(
      String kind, Map<String, NodeInfo> declared, String name, OnnxJavaType type, long[] dims) {
    NodeInfo node = declared.get(name);
    if (node == null) {
      throw new BundleException(
          file,
          "expected "
              + kind
              + " '"
              + name
              + "' ("
              + context
              + "), found only "
              + declared.keySet());
    }
    if (!(node.getInfo() instanceof TensorInfo info)) {
      throw new BundleException(
          file, kind + " '" + name + "': expected a tensor, found " + node.getInfo());
    }
    long[] shape = info.getShape();
    boolean ok = info.type == type && shape.length == dims.length;
    for (int i = 0; ok && i < dims.length; i++) {
      // Symbolic dimensions are declared as -1 and accepted; fixed ones must match.
      ok = dims[i] == ANY || shape[i] < 0 || shape[i] == dims[i];
    }
    if (!ok) {
      throw new BundleException(
          file,
          kind
              + " '"
              + name
              + "': expected "
              + type
              + " "
              + describe(dims)
              + " from manifest.json, found "
              + info.type
              + " "
              + Arrays.toString(shape));
    }
  }

  private static String describe(long[] dims) {
    StringJoiner j = new StringJoiner(", ", "[", "]");
    for (long d : dims) {
      j.add(d == ANY ? "?" : Long.toString(d));
    }
    return j.toString();
  }
}
