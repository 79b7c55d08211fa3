package io.shoplens.processor.inference.onnx;

/**
 * The vision graph of a generation bundle, OPT or T5: pixels in, the language model's image tokens
 * out, and the vision tower's output beside them where the bundle exposes it.
 */
public interface VisionGraph {
  /**
   * @param pixels [batch, 3, S, S] row-major
   * @return query embeddings [batch, Q, H] row-major
   */
  float[] vision(float[] pixels, int batch);

  /**
   * Query embeddings and the vision tower's output of one pass; only where {@link #exposesTower}.
   *
   * @param pixels [batch, 3, S, S] row-major
   * @throws IllegalStateException when the bundle does not expose its tower
   */
  PrefixGraphs.VisionPass visionWithTower(float[] pixels, int batch);

  /** Whether the vision graph also returns the vision tower's output (manifest vision_tower). */
  boolean exposesTower();
}
