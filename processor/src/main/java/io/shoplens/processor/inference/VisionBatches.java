package io.shoplens.processor.inference;

import io.shoplens.processor.inference.onnx.PrefixGraphs;
import io.shoplens.processor.inference.onnx.VisionGraph;
import java.util.ArrayList;
import java.util.List;

/** One vision pass over a batch of preprocessed images, for every generation architecture. */
final class VisionBatches {
  private VisionBatches() {}

  /**
   * Runs the vision graph on a batch of images.
   *
   * @param pixelCount floats per image, 3 * S * S
   * @return query embeddings per image, [Q * H] each
   */
  static List<float[]> encode(VisionGraph graph, int pixelCount, List<float[]> pixels) {
    int n = pixels.size();
    return perImage(graph.vision(stack(pixels, pixelCount), n), n);
  }

  /**
   * {@link #encode(VisionGraph, int, List)}, handing the tower's output of the same pass to {@code
   * tap} where the graph exposes it.
   */
  static List<float[]> encode(
      VisionGraph graph, int pixelCount, List<float[]> pixels, List<String> keys, VisionTap tap) {
    if (!graph.exposesTower()) {
      return encode(graph, pixelCount, pixels);
    }
    int n = pixels.size();
    PrefixGraphs.VisionPass pass = graph.visionWithTower(stack(pixels, pixelCount), n);
    tap.towerOutput(keys, pass.imageEmbeds());
    return perImage(pass.queryEmbeds(), n);
  }

  /** Concatenated pixel tensors, [n * 3 * S * S], for one vision pass. */
  private static float[] stack(List<float[]> pixels, int pixelCount) {
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
}
