package io.shoplens.processor.inference.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model bundle directory whose manifest has been read and validated and whose files all match
 * their listed size and sha256 (see docs/model-bundle.md).
 *
 * <p>Loading checks the manifest on its own; whether the ONNX graphs' declared inputs and outputs
 * agree with the manifest's dimensions is checked when the graphs are opened ({@code
 * io.shoplens.processor.inference.onnx.Blip2Graphs#open}), because that needs ONNX Runtime sessions
 * and we create those once only.
 *
 * @param directory the bundle directory
 * @param manifest the validated manifest
 */
public record ModelBundle(Path directory, ModelManifest manifest) implements GenerationBundle {

  /** The manifest's file name inside a bundle. */
  public static final String MANIFEST = "manifest.json";

  /** Graph and tokenizer files every bundle must list. */
  public static final List<String> REQUIRED_FILES =
      List.of("vision.onnx", "embed.onnx", "decoder.onnx", "tokenizer.json");

  private static final String ARCHITECTURE = "blip2-opt";

  /**
   * Reads and validates a bundle.
   *
   * @param directory the bundle directory
   * @return the loaded bundle
   * @throws BundleException naming the file and what was expected, if the directory or a file is
   *     missing, the manifest is malformed or inconsistent, or a file's size or sha256 differs
   */
  public static ModelBundle load(Path directory) {
    Path dir = ManifestFields.bundleDirectory(directory);
    ModelManifest manifest = read(ManifestFields.read(dir));
    verifyFiles(dir, manifest);
    return new ModelBundle(dir, manifest);
  }

  private static void verifyFiles(Path dir, ModelManifest manifest) {
    verifyFiles(dir, manifest.files());
  }

  /**
   * Checks that every listed file exists with its listed size and sha256 (shared with the other
   * bundle kinds, such as retrieval bundles, which have their own manifest fields).
   *
   * <p>Files are checked in name order, so that the file a message names does not depend on the
   * map's iteration order (the manifests hold immutable maps, whose order changes between JVMs).
   *
   * @throws BundleException naming the first file, by name, that is missing or differs
   */
  public static void verifyFiles(Path dir, Map<String, ModelManifest.FileEntry> files) {
    for (Map.Entry<String, ModelManifest.FileEntry> entry : new TreeMap<>(files).entrySet()) {
      Path file = dir.resolve(entry.getKey());
      ModelManifest.FileEntry expected = entry.getValue();
      long size;
      try {
        size = Files.size(file);
      } catch (NoSuchFileException e) {
        throw new BundleException(
            file, "listed in manifest.json but missing (expected " + expected.bytes() + " bytes)");
      } catch (IOException e) {
        throw new BundleException(file, "cannot read: " + e, e);
      }
      if (size != expected.bytes()) {
        throw new BundleException(
            file,
            "size mismatch: manifest.json lists "
                + expected.bytes()
                + " bytes, found "
                + size
                + " (truncated or replaced file?)");
      }
      String actual = sha256(file);
      if (!actual.equals(expected.sha256())) {
        throw new BundleException(
            file,
            "sha256 mismatch: manifest.json lists " + expected.sha256() + ", found " + actual);
      }
    }
  }

  /** Lower-case hex sha256 of a file. */
  static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new BundleException(file, "cannot read: " + e, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /** The generation bundle's own rules, on top of {@link ManifestFields}' typed reads. */
  private static ModelManifest read(ManifestFields m) {
    JsonNode root = m.root();
    if (m.integer(root, "format_version") == 1) {
      // Format 1's decoder returned logits for every position; this engine pins a [B, 1, V]
      // logits output, so it would misread such a graph. Refused rather than supported twice.
      throw m.fail(
          "format_version: expected "
              + ModelManifest.FORMAT_VERSION
              + ", found 1 (its decoder returns logits for every position); re-export the bundle"
              + " with model-export: python -m shoplens_export export --checkpoint ... --out DIR");
    }
    int formatVersion = m.formatVersion();
    String architecture =
        m.architecture(
            ARCHITECTURE,
            Map.of(
                "blip2-t5",
                " (a BLIP-2 Flan-T5 bundle: T5Bundle reads it; the engine and the command line"
                    + " load either kind through GenerationBundles)"));
    Dtype dtype = m.dtype(EnumSet.allOf(Dtype.class), "");
    int numQueryTokens = m.positive(root, "num_query_tokens");
    ModelManifest.Vision vision = m.vision();

    JsonNode t = m.object(root, "text");
    ModelManifest.Text text =
        new ModelManifest.Text(
            m.positive(t, "text.hidden_size"),
            m.positive(t, "text.num_layers"),
            m.positive(t, "text.num_heads"),
            m.positive(t, "text.head_dim"),
            m.positive(t, "text.vocab_size"),
            m.positive(t, "text.max_position_embeddings"));
    if (text.numHeads() * text.headDim() != text.hiddenSize()) {
      throw m.fail(
          "text: expected num_heads * head_dim == hidden_size, found "
              + text.numHeads()
              + " * "
              + text.headDim()
              + " != "
              + text.hiddenSize());
    }

    JsonNode k = m.object(root, "tokens");
    int vocab = text.vocabSize();
    ModelManifest.Tokens tokens =
        new ModelManifest.Tokens(
            m.tokenId(k, "tokens.image_token_id", vocab),
            m.tokenId(k, "tokens.bos_token_id", vocab),
            m.tokenId(k, "tokens.eos_token_id", vocab),
            m.tokenId(k, "tokens.pad_token_id", vocab),
            m.tokenIds(k, "tokens.stop_token_ids", vocab));

    ModelManifest.Prompt prompt = m.prompt("left", "");

    Map<String, ModelManifest.FileEntry> files = m.files(REQUIRED_FILES);
    return new ModelManifest(
        formatVersion,
        m.text(root, "model_id"),
        m.text(root, "model_version"),
        architecture,
        dtype,
        numQueryTokens,
        vision,
        m.visionTower(),
        text,
        tokens,
        prompt,
        files);
  }
}
