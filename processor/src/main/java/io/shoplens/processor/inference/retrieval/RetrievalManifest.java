package io.shoplens.processor.inference.retrieval;

import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.bundle.VisionTower;
import java.util.Map;
import java.util.Optional;

/**
 * The validated {@code manifest.json} of a retrieval bundle ({@code architecture: blip2-retrieval},
 * docs/model-bundle.md "Retrieval bundles"). Built only by {@link RetrievalBundle#load}.
 *
 * @param modelId hub id or local name the bundle was exported from
 * @param modelVersion what results carry; changes with the weights
 * @param numQueryTokens Q, the query vectors per image
 * @param vision image preprocessing, the same fields as a generation bundle's
 * @param visionTower the {@code vision_tower} object, empty in bundles exported before it
 * @param retrieval dimensions and token ids of the retrieval graphs
 * @param files every file of the bundle with its checksum
 */
public record RetrievalManifest(
    String modelId,
    String modelVersion,
    int numQueryTokens,
    ModelManifest.Vision vision,
    Optional<VisionTower> visionTower,
    Retrieval retrieval,
    Map<String, ModelManifest.FileEntry> files) {

  public RetrievalManifest {
    files = Map.copyOf(files);
  }

  /**
   * Whether the bundle has {@code image_features.onnx} (image_embeds to image features), which lets
   * a generation vision pass with the same tower stand in for this bundle's own.
   */
  public boolean hasImageFeaturesGraph() {
    return files.containsKey(RetrievalBundle.IMAGE_FEATURES);
  }

  /**
   * The {@code retrieval} object.
   *
   * @param embedDim D, the shared image-text space
   * @param visionHiddenSize Hv, the width of the vision tower output (ITM's input)
   * @param numPatches P, vision tower positions per image
   * @param maxTextLength tokens per text, [CLS] and [SEP] included
   * @param vocabSize the Q-Former's vocabulary
   * @param clsTokenId [CLS]
   * @param sepTokenId [SEP]
   * @param padTokenId [PAD] (right padding)
   * @param itmMatchIndex which ITM logit means "match"
   * @param visionTowerSha256 checksum of the vision tower weights alone
   */
  public record Retrieval(
      int embedDim,
      int visionHiddenSize,
      int numPatches,
      int maxTextLength,
      int vocabSize,
      int clsTokenId,
      int sepTokenId,
      int padTokenId,
      int itmMatchIndex,
      String visionTowerSha256) {}
}
