package io.shoplens.processor.inference.t5;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.Dtype;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.ManifestFields;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * A BLIP-2 T5 bundle directory whose manifest has been validated and whose files all match their
 * listed size and sha256 (through {@link ModelBundle#verifyFiles}, the same check as OPT bundles).
 *
 * @param directory the bundle directory
 * @param manifest the validated manifest
 */
public record T5Bundle(Path directory, T5Manifest manifest) implements GenerationBundle {

  /** Graph and tokenizer files every T5 bundle must list. */
  public static final List<String> REQUIRED_FILES =
      List.of("vision.onnx", "embed.onnx", "encoder.onnx", "decoder.onnx", "tokenizer.json");

  /**
   * Reads and validates a T5 bundle.
   *
   * @throws BundleException naming the file and what was expected instead of what was found
   */
  public static T5Bundle load(Path directory) {
    Path dir = ManifestFields.bundleDirectory(directory);
    ManifestFields m = ManifestFields.read(dir);
    JsonNode root = m.root();
    m.formatVersion();
    m.architecture(T5Manifest.ARCHITECTURE, Map.of());
    // T5 overflows in float16; the exporter refuses it, so another dtype is a foreign bundle.
    m.dtype(EnumSet.of(Dtype.FLOAT32), " (T5 bundles are float32 only)");
    JsonNode t = m.object(root, "text");
    T5Manifest.Text text =
        new T5Manifest.Text(
            m.positive(t, "text.hidden_size"),
            m.positive(t, "text.num_layers"),
            m.positive(t, "text.num_encoder_layers"),
            m.positive(t, "text.num_heads"),
            m.positive(t, "text.head_dim"),
            m.positive(t, "text.vocab_size"));
    int vocab = text.vocabSize();
    JsonNode k = m.object(root, "tokens");
    T5Manifest.Tokens tokens =
        new T5Manifest.Tokens(
            m.tokenId(k, "tokens.image_token_id", vocab),
            m.tokenId(k, "tokens.eos_token_id", vocab),
            m.tokenId(k, "tokens.pad_token_id", vocab),
            m.tokenId(k, "tokens.decoder_start_token_id", vocab),
            m.tokenIds(k, "tokens.stop_token_ids", vocab));
    ModelManifest.Prompt prompt = m.prompt("right", " (T5's encoder input)");
    T5Manifest manifest =
        new T5Manifest(
            m.text(root, "model_id"),
            m.text(root, "model_version"),
            m.positive(root, "num_query_tokens"),
            m.vision(),
            m.visionTower(),
            text,
            tokens,
            prompt,
            m.files(REQUIRED_FILES));
    ModelBundle.verifyFiles(dir, manifest.files());
    return new T5Bundle(dir, manifest);
  }
}
