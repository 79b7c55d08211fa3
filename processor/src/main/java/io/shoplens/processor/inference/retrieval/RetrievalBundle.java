package io.shoplens.processor.inference.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.Dtype;
import io.shoplens.processor.inference.bundle.ManifestFields;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.bundle.VisionTower;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A retrieval bundle directory whose manifest has been validated and whose files all match their
 * listed size and sha256 (through {@link ModelBundle#verifyFiles}, the same check as generation
 * bundles).
 *
 * @param directory the bundle directory
 * @param manifest the validated manifest
 */
public record RetrievalBundle(Path directory, RetrievalManifest manifest) {

  /** The only architecture this reader accepts. */
  public static final String ARCHITECTURE = "blip2-retrieval";

  /**
   * Optional graph: the vision tower's output to image features. Bundles exported before it lack it
   * and run only their own {@code vision.onnx}.
   */
  public static final String IMAGE_FEATURES = "image_features.onnx";

  /** Graph and tokenizer files every retrieval bundle must list. */
  public static final List<String> REQUIRED_FILES =
      List.of("vision.onnx", "text.onnx", "itm.onnx", "tokenizer.json");

  /**
   * Reads and validates a retrieval bundle.
   *
   * @throws BundleException naming the file and what was expected instead of what was found
   */
  public static RetrievalBundle load(Path directory) {
    Path dir = ManifestFields.bundleDirectory(directory);
    RetrievalManifest manifest = read(ManifestFields.read(dir));
    ModelBundle.verifyFiles(dir, manifest.files());
    return new RetrievalBundle(dir, manifest);
  }

  /** Absolute path of a file of the bundle. */
  public Path file(String name) {
    return directory.resolve(name);
  }

  /** The retrieval bundle's own rules, on top of {@link ManifestFields}' typed reads. */
  private static RetrievalManifest read(ManifestFields m) {
    JsonNode root = m.root();
    m.formatVersion();
    m.architecture(
        ARCHITECTURE,
        Map.of(
            "blip2-opt",
            " (a generation bundle: export Blip2ForImageTextRetrieval with --retrieval)"));
    m.dtype(EnumSet.of(Dtype.FLOAT32), "");
    ModelManifest.Vision vision = m.vision();
    JsonNode r = m.object(root, "retrieval");
    int vocab = m.positive(r, "vocab_size");
    RetrievalManifest.Retrieval retrieval =
        new RetrievalManifest.Retrieval(
            m.positive(r, "embed_dim"),
            m.positive(r, "vision_hidden_size"),
            m.positive(r, "num_patches"),
            m.positive(r, "max_text_length"),
            vocab,
            m.tokenId(r, "cls_token_id", vocab),
            m.tokenId(r, "sep_token_id", vocab),
            m.tokenId(r, "pad_token_id", vocab),
            m.integer(r, "itm_match_index"),
            m.text(r, "vision_tower_sha256"));
    if (retrieval.itmMatchIndex() != 0 && retrieval.itmMatchIndex() != 1) {
      throw m.fail(
          "retrieval.itm_match_index: expected 0 or 1, found " + retrieval.itmMatchIndex());
    }
    if (retrieval.maxTextLength() < 2) {
      throw m.fail(
          "retrieval.max_text_length: expected at least 2 ([CLS] and [SEP]), found "
              + retrieval.maxTextLength());
    }
    Map<String, ModelManifest.FileEntry> files = m.files(REQUIRED_FILES);
    Optional<VisionTower> visionTower = m.visionTower();
    if (visionTower.isPresent()
        && !visionTower.get().sha256().equals(retrieval.visionTowerSha256())) {
      throw m.fail(
          "vision_tower.sha256 "
              + visionTower.get().sha256()
              + " differs from retrieval.vision_tower_sha256 "
              + retrieval.visionTowerSha256());
    }
    return new RetrievalManifest(
        m.text(root, "model_id"),
        m.text(root, "model_version"),
        m.positive(root, "num_query_tokens"),
        vision,
        visionTower,
        retrieval,
        files);
  }
}
