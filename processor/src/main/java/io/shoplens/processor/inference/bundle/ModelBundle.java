package io.shoplens.processor.inference.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

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
public record ModelBundle(Path directory, ModelManifest manifest) {

  /** The manifest's file name inside a bundle. */
  public static final String MANIFEST = "manifest.json";

  /** Graph and tokenizer files every bundle must list. */
  public static final List<String> REQUIRED_FILES =
      List.of("vision.onnx", "embed.onnx", "decoder.onnx", "tokenizer.json");

  private static final Set<String> ARCHITECTURES = Set.of("blip2-opt");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads and validates a bundle.
   *
   * @param directory the bundle directory
   * @return the loaded bundle
   * @throws BundleException naming the file and what was expected, if the directory or a file is
   *     missing, the manifest is malformed or inconsistent, or a file's size or sha256 differs
   */
  public static ModelBundle load(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw new BundleException(dir, "expected a model bundle directory, found nothing there");
    }
    Path manifestFile = dir.resolve(MANIFEST);
    JsonNode root;
    try {
      root = JSON.readTree(manifestFile.toFile());
    } catch (JsonProcessingException e) {
      throw new BundleException(
          manifestFile, "expected valid JSON, found a parse error: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      if (!Files.exists(manifestFile)) {
        throw new BundleException(manifestFile, "expected a manifest, found no such file");
      }
      throw new BundleException(manifestFile, "cannot read: " + e, e);
    }
    if (root == null || !root.isObject()) {
      throw new BundleException(manifestFile, "expected a JSON object, found " + root);
    }
    ModelManifest manifest = new ManifestReader(manifestFile, root).read();
    verifyFiles(dir, manifest);
    return new ModelBundle(dir, manifest);
  }

  /** Absolute path of a file listed in the manifest (or the manifest itself). */
  public Path file(String name) {
    return directory.resolve(name);
  }

  private static void verifyFiles(Path dir, ModelManifest manifest) {
    verifyFiles(dir, manifest.files());
  }

  /**
   * Checks that every listed file exists with its listed size and sha256 (shared with the other
   * bundle kinds, such as retrieval bundles, which have their own manifest fields).
   *
   * @throws BundleException naming the first file that is missing or differs
   */
  public static void verifyFiles(Path dir, Map<String, ModelManifest.FileEntry> files) {
    for (Map.Entry<String, ModelManifest.FileEntry> entry : files.entrySet()) {
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

  /** Reads fields with messages that give the JSON path and what was expected. */
  private static final class ManifestReader {
    private final Path file;
    private final JsonNode root;

    ManifestReader(Path file, JsonNode root) {
      this.file = file;
      this.root = root;
    }

    ModelManifest read() {
      int formatVersion = integer(root, "format_version");
      if (formatVersion == 1) {
        // Format 1's decoder returned logits for every position; this engine pins a [B, 1, V]
        // logits output, so it would misread such a graph. Refused rather than supported twice.
        throw fail(
            "format_version: expected "
                + ModelManifest.FORMAT_VERSION
                + ", found 1 (its decoder returns logits for every position); re-export the bundle"
                + " with model-export: python -m shoplens_export export --checkpoint ... --out DIR");
      }
      if (formatVersion != ModelManifest.FORMAT_VERSION) {
        throw fail(
            "format_version: expected "
                + ModelManifest.FORMAT_VERSION
                + ", found "
                + formatVersion
                + " (bundle written by a newer or older exporter)");
      }
      String architecture = text(root, "architecture");
      if (!ARCHITECTURES.contains(architecture)) {
        throw fail(
            "architecture: expected one of "
                + ARCHITECTURES
                + ", found "
                + architecture
                + (architecture.equals("blip2-t5")
                    ? " (a BLIP-2 Flan-T5 bundle: the engine does not serve T5 yet; the T5 graphs"
                        + " and generation are in inference.t5)"
                    : ""));
      }
      String dtype = text(root, "dtype");
      if (!dtype.equals("float32")) {
        throw fail("dtype: expected float32 (the only dtype this engine runs), found " + dtype);
      }
      int numQueryTokens = positive(root, "num_query_tokens");

      JsonNode v = object(root, "vision");
      ModelManifest.Vision vision =
          new ModelManifest.Vision(
              positive(v, "vision.image_size"),
              text(v, "vision.resample"),
              bool(v, "vision.do_rescale"),
              number(v, "vision.rescale_factor"),
              bool(v, "vision.do_normalize"),
              triple(v, "vision.image_mean"),
              triple(v, "vision.image_std"),
              bool(v, "vision.do_convert_rgb"));
      for (double std : vision.imageStd()) {
        if (!(std > 0)) {
          throw fail("vision.image_std: expected positive values, found " + vision.imageStd());
        }
      }

      JsonNode t = object(root, "text");
      ModelManifest.Text text =
          new ModelManifest.Text(
              positive(t, "text.hidden_size"),
              positive(t, "text.num_layers"),
              positive(t, "text.num_heads"),
              positive(t, "text.head_dim"),
              positive(t, "text.vocab_size"),
              positive(t, "text.max_position_embeddings"));
      if (text.numHeads() * text.headDim() != text.hiddenSize()) {
        throw fail(
            "text: expected num_heads * head_dim == hidden_size, found "
                + text.numHeads()
                + " * "
                + text.headDim()
                + " != "
                + text.hiddenSize());
      }

      JsonNode k = object(root, "tokens");
      List<Integer> stops = new ArrayList<>();
      JsonNode stopNode = array(k, "tokens.stop_token_ids");
      for (JsonNode id : stopNode) {
        if (!id.canConvertToInt()) {
          throw fail("tokens.stop_token_ids: expected integers, found " + stopNode);
        }
        stops.add(tokenId(id.intValue(), "tokens.stop_token_ids", text.vocabSize()));
      }
      if (stops.isEmpty()) {
        throw fail("tokens.stop_token_ids: expected at least one id, found []");
      }
      ModelManifest.Tokens tokens =
          new ModelManifest.Tokens(
              tokenId(
                  integer(k, "tokens.image_token_id"), "tokens.image_token_id", text.vocabSize()),
              tokenId(integer(k, "tokens.bos_token_id"), "tokens.bos_token_id", text.vocabSize()),
              tokenId(integer(k, "tokens.eos_token_id"), "tokens.eos_token_id", text.vocabSize()),
              tokenId(integer(k, "tokens.pad_token_id"), "tokens.pad_token_id", text.vocabSize()),
              stops);

      JsonNode p = object(root, "prompt");
      ModelManifest.Prompt prompt =
          new ModelManifest.Prompt(
              text(p, "prompt.padding_side"),
              text(p, "prompt.question_template"),
              text(p, "prompt.turn_template"),
              text(p, "prompt.turn_separator"));
      if (!prompt.paddingSide().equals("left")) {
        throw fail("prompt.padding_side: expected left, found " + prompt.paddingSide());
      }
      if (!prompt.questionTemplate().contains("{question}")) {
        throw fail(
            "prompt.question_template: expected a {question} placeholder, found "
                + prompt.questionTemplate());
      }
      if (!prompt.turnTemplate().contains("{question}")
          || !prompt.turnTemplate().contains("{answer}")) {
        throw fail(
            "prompt.turn_template: expected {question} and {answer} placeholders, found "
                + prompt.turnTemplate());
      }

      Map<String, ModelManifest.FileEntry> files = new LinkedHashMap<>();
      JsonNode f = object(root, "files");
      for (Map.Entry<String, JsonNode> e : f.properties()) {
        String name = e.getKey();
        // Names are plain file names: a manifest must not point outside its own directory.
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
          throw fail("files: expected plain file names inside the bundle, found '" + name + "'");
        }
        String at = "files." + name;
        JsonNode entry = e.getValue();
        if (!entry.isObject()) {
          throw fail(at + ": expected an object with sha256 and bytes, found " + entry);
        }
        String sha = text(entry, at + ".sha256");
        if (!SHA256.matcher(sha).matches()) {
          throw fail(at + ".sha256: expected 64 lower-case hex digits, found " + sha);
        }
        JsonNode bytes = entry.get("bytes");
        if (bytes == null || !bytes.canConvertToLong() || bytes.longValue() < 0) {
          throw fail(at + ".bytes: expected a non-negative integer, found " + bytes);
        }
        files.put(name, new ModelManifest.FileEntry(sha, bytes.longValue()));
      }
      for (String required : REQUIRED_FILES) {
        if (!files.containsKey(required)) {
          throw fail("files: expected an entry for " + required + ", found " + files.keySet());
        }
      }

      return new ModelManifest(
          formatVersion,
          text(root, "model_id"),
          text(root, "model_version"),
          architecture,
          dtype,
          numQueryTokens,
          vision,
          text,
          tokens,
          prompt,
          files);
    }

    private BundleException fail(String message) {
      return new BundleException(file, message);
    }

    private JsonNode field(JsonNode parent, String path) {
      String name = path.substring(path.lastIndexOf('.') + 1);
      JsonNode node = parent.get(name);
      if (node == null || node.isNull()) {
        throw fail("missing required field '" + path + "'");
      }
      return node;
    }

    private JsonNode object(JsonNode parent, String path) {
      JsonNode node = field(parent, path);
      if (!node.isObject()) {
        throw fail(path + ": expected an object, found " + node);
      }
      return node;
    }

    private JsonNode array(JsonNode parent, String path) {
      JsonNode node = field(parent, path);
      if (!node.isArray()) {
        throw fail(path + ": expected an array, found " + node);
      }
      return node;
    }

    private String text(JsonNode parent, String path) {
      JsonNode node = field(parent, path);
      if (!node.isTextual()) {
        throw fail(path + ": expected a string, found " + node);
      }
      return node.textValue();
    }

    private int integer(JsonNode parent, String path) {
      JsonNode node = field(parent, path);
      if (!node.isIntegralNumber() || !node.canConvertToInt()) {
        throw fail(path + ": expected an integer, found " + node);
      }
      return node.intValue();
    }

    private int positive(JsonNode parent, String path) {
      int value = integer(parent, path);
      if (value <= 0) {
        throw fail(path + ": expected a positive integer, found " + value);
      }
      return value;
    }

    private double number(JsonNode parent, String path) {
      JsonNode node = field(parent, path);
      if (!node.isNumber()) {
        throw fail(path + ": expected a number, found " + node);
      }
      return node.doubleValue();
    }

    private boolean bool(JsonNode parent, String path) {
      JsonNode node = field(parent, path);
      if (!node.isBoolean()) {
        throw fail(path + ": expected true or false, found " + node);
      }
      return node.booleanValue();
    }

    private List<Double> triple(JsonNode parent, String path) {
      JsonNode node = array(parent, path);
      List<Double> values = new ArrayList<>();
      for (JsonNode n : node) {
        if (!n.isNumber()) {
          throw fail(path + ": expected numbers, found " + node);
        }
        values.add(n.doubleValue());
      }
      if (values.size() != 3) {
        throw fail(path + ": expected 3 values (R, G, B), found " + values.size());
      }
      return values;
    }

    private int tokenId(int id, String path, int vocabSize) {
      if (id < 0 || id >= vocabSize) {
        throw fail(path + ": expected an id in [0, " + vocabSize + "), found " + id);
      }
      return id;
    }
  }
}
