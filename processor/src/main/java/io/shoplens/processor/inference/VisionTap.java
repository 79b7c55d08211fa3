package io.shoplens.processor.inference;

import java.util.List;

/**
 * Receives the vision tower's output of the images a generation vision pass encodes, so that a
 * retrieval model with the same frozen tower derives its image features from it instead of running
 * the tower again (docs/model-bundle.md, "One vision tower for generation and retrieval").
 *
 * <p>Called on the engine's worker thread, right after the vision pass and before any request for
 * those images completes: whoever waits for one of them finds the tap's work done. It should be
 * quick (the retrieval Q-Former, not a tower) and must not block on the engine. The engine keeps
 * nothing of the tower output afterwards: it is P x Hv floats per image (1.4 MB for ViT-g).
 */
@FunctionalInterface
public interface VisionTap {
  /**
   * @param imageSha256 the images' vision cache keys (hex sha256 of their bytes), in batch order
   * @param imageEmbeds the tower's output, [n, P, Hv] row-major, float32
   */
  void towerOutput(List<String> imageSha256, float[] imageEmbeds);
}
