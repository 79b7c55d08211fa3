package io.shoplens.processor.inference.retrieval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

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

  /** Graph and tokenizer files every retrieval bundle must list. */
  public static final List<String> REQUIRED_FILES =
      List.of("vision.onnx", "text.onnx", "itm.onnx", "tokenizer.json");

  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Reads and validates a retrieval bundle.
   *
   * @throws BundleException naming the file and what was expected instead of what was found
   */
  public static RetrievalBundle load(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    Path file = dir.resolve(ModelBundle.MANIFEST);
    if (!Files.isRegularFile(file)) {
      throw new BundleException(file, "expected a retrieval bundle manifest, found no such file");
    }
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new BundleException(file, "expected valid JSON, cannot read it: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new BundleException(file, "expected a JSON object, found " + root);
    }
    RetrievalManifest manifest = new Reader(file, root).read();
    ModelBundle.verifyFiles(dir, manifest.files());
    return new RetrievalBundle(dir, manifest);
  }

  /** Absolute path of a file of the bundle. */
  public Path file(String name) {
    return directory.resolve(name);
  }

  private record Reader(Path file, JsonNode root) {
    RetrievalManifest read() {
      int format = integer(root, "format_version");
      if (format != ModelManifest.FORMAT_VERSION) {
        throw fail(
            "format_version: expected " + ModelManifest.FORMAT_VERSION + ", found " + format);
      }
      String architecture = text(root, "architecture");
      if (!architecture.equals(ARCHITECTURE)) {
        throw fail(
            "architecture: expected "
                + ARCHITECTURE
                + " (a retrieval bundle), found "
                + architecture
                + (architecture.equals("blip2-opt")
                    ? " (a generation bundle: export Blip2ForImageTextRetrieval with --retrieval)"
                    : ""));
      }
      String dtype = text(root, "dtype");
      if (!dtype.equals("float32")) {
        throw fail("dtype: expected float32, found " + dtype);
      }
      JsonNode v = object(root, "vision");
      ModelManifest.Vision vision =
          new ModelManifest.Vision(
              positive(v, "image_size"),
              text(v, "resample"),
              bool(v, "do_rescale"),
              number(v, "rescale_factor"),
              bool(v, "do_normalize"),
              triple(v, "image_mean"),
              triple(v, "image_std"),
              bool(v, "do_convert_rgb"));
      JsonNode r = object(root, "retrieval");
      int vocab = positive(r, "vocab_size");
      RetrievalManifest.Retrieval retrieval =
          new RetrievalManifest.Retrieval(
              positive(r, "embed_dim"),
              positive(r, "vision_hidden_size"),
              positive(r, "num_patches"),
              positive(r, "max_text_length"),
              vocab,
              tokenId(r, "cls_token_id", vocab),
              tokenId(r, "sep_token_id", vocab),
              tokenId(r, "pad_token_id", vocab),
              integer(r, "itm_match_index"),
              text(r, "vision_tower_sha256"));
      if (retrieval.itmMatchIndex() != 0 && retrieval.itmMatchIndex() != 1) {
        throw fail(
            "retrieval.itm_match_index: expected 0 or 1, found " + retrieval.itmMatchIndex());
      }
      if (retrieval.maxTextLength() < 2) {
        throw fail(
            "retrieval.max_text_length: expected at least 2 ([CLS] and [SEP]), found "
                + retrieval.maxTextLength());
      }
      Map<String, ModelManifest.FileEntry> files = new LinkedHashMap<>();
      for (Map.Entry<String, JsonNode> e : object(root, "files").properties()) {
        String name = e.getKey();
        // A manifest must not point outside its own directory.
        if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
          throw fail("files: expected plain file names inside the bundle, found '" + name + "'");
        }
        String sha = text(e.getValue(), "sha256");
        if (!SHA256.matcher(sha).matches()) {
          throw fail("files." + name + ".sha256: expected 64 lower-case hex digits, found " + sha);
        }
        JsonNode bytes = e.getValue().get("bytes");
        if (bytes == null || !bytes.canConvertToLong() || bytes.longValue() < 0) {
          throw fail("files." + name + ".bytes: expected a non-negative integer, found " + bytes);
        }
        files.put(name, new ModelManifest.FileEntry(sha, bytes.longValue()));
      }
      for (String required : REQUIRED_FILES) {
        if (!files.containsKey(required)) {
          throw fail("files: expected an entry for " + required + ", found " + files.keySet());
        }
      }
      return new RetrievalManifest(
          text(root, "model_id"),
          text(root, "model_version"),
          positive(root, "num_query_tokens"),
          vision,
          retrieval,
          files);
    }

    private BundleException fail(String message) {
      return new BundleException(file, message);
    }

    private JsonNode field(JsonNode parent, String name) {
      JsonNode node = parent.get(name);
      if (node == null || node.isNull()) {
        throw fail("missing required field '" + name + "'");
      }
      return node;
    }

    private JsonNode object(JsonNode parent, String name) {
      JsonNode node = field(parent, name);
      if (!node.isObject()) {
        throw fail(name + ": expected an object, found " + node);
      }
      return node;
    }

    private String text(JsonNode parent, String name) {
      JsonNode node = field(parent, name);
      if (!node.isTextual()) {
        throw fail(name + ": expected a string, found " + node);
      }
      return node.textValue();
    }

    private int integer(JsonNode parent, String name) {
      JsonNode node = field(parent, name);
      if (!node.isIntegralNumber() || !node.canConvertToInt()) {
        throw fail(name + ": expected an integer, found " + node);
      }
      return node.intValue();
    }

    private int positive(JsonNode parent, String name) {
      int value = integer(parent, name);
      if (value <= 0) {
        throw fail(name + ": expected a positive integer, found " + value);
      }
      return value;
    }

    private int tokenId(JsonNode parent, String name, int vocab) {
      int id = integer(parent, name);
      if (id < 0 || id >= vocab) {
        throw fail(name + ": expected an id in [0, " + vocab + "), found " + id);
      }
      return id;
    }

    private double number(JsonNode parent, String name) {
      JsonNode node = field(parent, name);
      if (!node.isNumber()) {
        throw fail(name + ": expected a number, found " + node);
      }
      return node.doubleValue();
    }

    private boolean bool(JsonNode parent, String name) {
      JsonNode node = field(parent, name);
      if (!node.isBoolean()) {
        throw fail(name + ": expected true or false, found " + node);
      }
      return node.booleanValue();
    }

    private List<Double> triple(JsonNode parent, String name) {
      JsonNode node = field(parent, name);
      List<Double> values = new ArrayList<>();
      for (JsonNode n : node) {
        if (!n.isNumber()) {
          throw fail(name + ": expected numbers, found " + node);
        }
        values.add(n.doubleValue());
      }
      if (values.size() != 3) {
        throw fail(name + ": expected 3 values (R, G, B), found " + node);
      }
      return values;
    }
  }
}
