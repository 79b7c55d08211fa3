package io.shoplens.processor.inference.bundle;

/**
 * A bundle's {@code vision_tower} object (docs/model-bundle.md, "One vision tower for generation
 * and retrieval"): which frozen vision tower its vision graph runs, and where that graph exposes
 * the tower's output. Generation and retrieval bundles write it alike, so that two bundles whose
 * {@link #sha256} and {@link #precision} agree can share one tower pass per image.
 *
 * @param sha256 checksum of the tower's weights alone (parameter names and float32 values)
 * @param output name of the vision graph output that carries the tower's last hidden state [B, P,
 *     Hv] ({@code image_embeds})
 * @param precision what the exported graph computes the tower in: {@code float32}, {@code float16}
 *     or {@code int8-dynamic}; equal checksums at different precisions give different outputs
 * @param imageSize S, the square input side
 * @param patchSize the ViT patch side
 * @param numPatches P, tower positions per image (patches and the class position)
 * @param hiddenSize Hv, the tower's width
 * @param intermediateSize the tower's MLP width
 * @param numLayers the tower's transformer layers
 */
public record VisionTower(
    String sha256,
    String output,
    String precision,
    int imageSize,
    int patchSize,
    int numPatches,
    int hiddenSize,
    int intermediateSize,
    int numLayers) {

  /** The manifest key of the object. */
  public static final String FIELD = "vision_tower";

  /**
   * Floating-point operations of one image's tower pass, in billions, from the shapes (a
   * multiply-add counts 2): the patch embedding, then per layer the four attention projections
   * ({@code 8 P Hv^2}), attention scores and weighted sum ({@code 4 P^2 Hv}) and the MLP ({@code 4
   * P Hv I}). Layer norms, softmax and activations are left out (under 1 % for ViT-g). For the EVA
   * ViT-g of BLIP-2 (P 257, Hv 1408, I 6144, 39 layers) this is about 520 GFLOPs.
   */
  public double gflopsPerImage() {
    double p = numPatches;
    double h = hiddenSize;
    double patches = (double) (imageSize / patchSize) * (imageSize / patchSize);
    double patchEmbedding = 2.0 * patches * 3 * patchSize * patchSize * h;
    double perLayer = 8 * p * h * h + 4 * p * p * h + 4 * p * h * intermediateSize;
    return (patchEmbedding + numLayers * perLayer) / 1e9;
  }

  /** Bytes of one image's tower output in float32: what keeping it per image would cost. */
  public long outputBytesPerImage() {
    return 4L * numPatches * hiddenSize;
  }
}
