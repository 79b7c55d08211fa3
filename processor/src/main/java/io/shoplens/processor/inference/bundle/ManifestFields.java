package io.shoplens.processor.inference.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Reads the fields of a bundle's {@code manifest.json} with messages that give the field's path and
 * what was expected instead of what was found. The parts every bundle kind shares ({@code vision},
 * {@code files}) are read here once.
 *
 * <p>Every bundle kind (OPT, T5, retrieval) reads its manifest through this class, so the fields
 * they share are checked and reported alike.
 */
public final class ManifestFields {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final JsonNode root;

  private ManifestFields(Path file, JsonNode root) {
    this.file = file;
    this.root = root;
  }

  /**
   * The bundle directory a user named, absolute and normalised: where every bundle kind starts.
   *
   * @throws BundleException if there is no directory at that path
   */
  public static Path bundleDirectory(Path directory) {
    Path dir = directory.toAbsolutePath().normalize();
    if (!Files.isDirectory(dir)) {
      throw new BundleException(dir, "expected a model bundle directory, found nothing there");
    }
    return dir;
  }

  /**
   * Parses {@code <dir>/manifest.json}.
   *
   * @throws BundleException if it is missing, not JSON or not an object
   */
  public static ManifestFields read(Path dir) {
    Path file = dir.resolve(ModelBundle.MANIFEST);
    if (!Files.isRegularFile(file)) {
      throw new BundleException(file, "expected a model bundle manifest, found no such file");
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
    return new ManifestFields(file, root);
  }

  /** The manifest's root object. */
  public JsonNode root() {
    return root;
  }

  /** A failure about this manifest. */
  public BundleException fail(String message) {
    return new BundleException(file, message);
  }

  /**
   * {@code architecture}, which must be {@code expected}.
   *
   * @param hints what the message adds when another known architecture is found instead (which
   *     bundle it is and what reads it), by that architecture
   */
  public String architecture(String expected, Map<String, String> hints) {
    String found = text(root, "architecture");
    if (!found.equals(expected)) {
      throw fail(
          "architecture: expected "
              + expected
              + ", found "
              + found
              + hints.getOrDefault(found, ""));
    }
    return found;
  }

  /**
   * {@code dtype}, which must be one of {@code allowed}.
   *
   * @param why what the message adds after the dtypes expected (why others are refused), or ""
   */
  public Dtype dtype(Set<Dtype> allowed, String why) {
    String found = text(root, "dtype");
    return Dtype.fromManifest(found)
        .filter(allowed::contains)
        .orElseThrow(
            () ->
                fail(
                    "dtype: expected "
                        + (allowed.size() == 1
                            ? allowed.iterator().next().toString()
                            : "one of " + allowed)
                        + why
                        + ", found "
                        + found));
  }

  /** {@code format_version}, which must be {@link ModelManifest#FORMAT_VERSION}. */
  public int formatVersion() {
    int format = integer(root, "format_version");
    if (format != ModelManifest.FORMAT_VERSION) {
      throw fail(
          "format_version: expected "
              + ModelManifest.FORMAT_VERSION
              + ", found "
              + format
              + "; re-export the bundle with model-export (python -m shoplens_export export ...)");
    }
    return format;
  }

  /** The {@code vision} object (image preprocessing), as every bundle kind has it. */
  public ModelManifest.Vision vision() {
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
    return vision;
  }

  /**
   * The optional {@code vision_tower} object ({@link VisionTower}); empty for bundles exported
   * before it existed, which then load as before and share no tower pass.
   */
  public Optional<VisionTower> visionTower() {
    JsonNode t = root.get(VisionTower.FIELD);
    if (t == null || t.isNull()) {
      return Optional.empty();
    }
    if (!t.isObject()) {
      throw fail(VisionTower.FIELD + ": expected an object, found " + t);
    }
    String sha = text(t, "vision_tower.sha256");
    if (!sha.matches("[0-9a-f]{64}")) {
      throw fail("vision_tower.sha256: expected 64 lower-case hex digits, found " + sha);
    }
    VisionTower tower =
        new VisionTower(
            sha,
            text(t, "vision_tower.output"),
            text(t, "vision_tower.precision"),
            positive(t, "vision_tower.image_size"),
            positive(t, "vision_tower.patch_size"),
            positive(t, "vision_tower.num_patches"),
            positive(t, "vision_tower.hidden_size"),
            positive(t, "vision_tower.intermediate_size"),
            positive(t, "vision_tower.num_layers"));
    int side = tower.imageSize() / tower.patchSize();
    if (tower.numPatches() != side * side + 1) {
      throw fail(
          "vision_tower.num_patches: expected "
              + (side * side + 1)
              + " ((image_size / patch_size)^2 + 1), found "
              + tower.numPatches());
    }
    return Optional.of(tower);
  }

  /**
   * The {@code prompt} object, as both generation bundle kinds (OPT, T5) have it: templates with
   * their placeholders, padded on the side the architecture generates correctly with.
   *
   * @param paddingSide the only side this architecture accepts ({@code left} for a decoder-only
   *     model, {@code right} for an encoder's input)
   * @param why said after the expected side when another is found
   */
  public ModelManifest.Prompt prompt(String paddingSide, String why) {
    JsonNode p = object(root, "prompt");
    ModelManifest.Prompt prompt =
        new ModelManifest.Prompt(
            text(p, "prompt.padding_side"),
            text(p, "prompt.question_template"),
            text(p, "prompt.turn_template"),
            text(p, "prompt.turn_separator"));
    if (!prompt.paddingSide().equals(paddingSide)) {
      throw fail(
          "prompt.padding_side: expected " + paddingSide + why + ", found " + prompt.paddingSide());
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
    return prompt;
  }

  /** The {@code files} object; every name in {@code required} must be listed. */
  public Map<String, ModelManifest.FileEntry> files(List<String> required) {
    Map<String, ModelManifest.FileEntry> files = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : object(root, "files").properties()) {
      String name = e.getKey();
      // A manifest must not point outside its own directory.
      if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.startsWith(".")) {
        throw fail("files: expected plain file names inside the bundle, found '" + name + "'");
      }
      String at = "files." + name;
      if (!e.getValue().isObject()) {
        throw fail(at + ": expected an object with sha256 and bytes, found " + e.getValue());
      }
      String sha = text(e.getValue(), at + ".sha256");
      if (!SHA256.matcher(sha).matches()) {
        throw fail(at + ".sha256: expected 64 lower-case hex digits, found " + sha);
      }
      JsonNode bytes = e.getValue().get("bytes");
      if (bytes == null || !bytes.canConvertToLong() || bytes.longValue() < 0) {
        throw fail(at + ".bytes: expected a non-negative integer, found " + bytes);
      }
      files.put(name, new ModelManifest.FileEntry(sha, bytes.longValue()));
    }
    for (String name : required) {
      if (!files.containsKey(name)) {
        throw fail("files: expected an entry for " + name + ", found " + files.keySet());
      }
    }
    return files;
  }

  /** A field by path ("a.b": the last segment is looked up in {@code parent}). */
  public JsonNode field(JsonNode parent, String path) {
    JsonNode node = parent.get(path.substring(path.lastIndexOf('.') + 1));
    if (node == null || node.isNull()) {
      throw fail("missing required field '" + path + "'");
    }
    return node;
  }

  public JsonNode object(JsonNode parent, String path) {
    return field(parent, path, JsonNode::isObject, "an object");
  }

  public String text(JsonNode parent, String path) {
    return field(parent, path, JsonNode::isTextual, "a string").textValue();
  }

  public int integer(JsonNode parent, String path) {
    return field(parent, path, n -> n.isIntegralNumber() && n.canConvertToInt(), "an integer")
        .intValue();
  }

  public int positive(JsonNode parent, String path) {
    int value = integer(parent, path);
    if (value <= 0) {
      throw fail(path + ": expected a positive integer, found " + value);
    }
    return value;
  }

  public int tokenId(JsonNode parent, String path, int vocabSize) {
    return tokenId(integer(parent, path), path, vocabSize);
  }

  public int tokenId(int id, String path, int vocabSize) {
    if (id < 0 || id >= vocabSize) {
      throw fail(path + ": expected an id in [0, " + vocabSize + "), found " + id);
    }
    return id;
  }

  /** A non-empty array of token ids. */
  public List<Integer> tokenIds(JsonNode parent, String path, int vocabSize) {
    JsonNode node = field(parent, path);
    if (!node.isArray() || node.isEmpty()) {
      throw fail(path + ": expected a non-empty array of ids, found " + node);
    }
    List<Integer> ids = new ArrayList<>();
    for (JsonNode id : node) {
      if (!id.canConvertToInt()) {
        throw fail(path + ": expected integers, found " + node);
      }
      ids.add(tokenId(id.intValue(), path, vocabSize));
    }
    return ids;
  }

  public double number(JsonNode parent, String path) {
    return field(parent, path, JsonNode::isNumber, "a number").doubleValue();
  }

  public boolean bool(JsonNode parent, String path) {
    return field(parent, path, JsonNode::isBoolean, "true or false").booleanValue();
  }

  /** The field at {@code path}, which must be {@code expected} (as {@code is} tells). */
  private JsonNode field(JsonNode parent, String path, Predicate<JsonNode> is, String expected) {
    JsonNode node = field(parent, path);
    if (!is.test(node)) {
      throw fail(path + ": expected " + expected + ", found " + node);
    }
    return node;
  }

  private List<Double> triple(JsonNode parent, String path) {
    JsonNode node = field(parent, path);
    List<Double> values = new ArrayList<>();
    for (JsonNode n : node) {
      if (!n.isNumber()) {
        throw fail(path + ": expected numbers, found " + node);
      }
      values.add(n.doubleValue());
    }
    if (values.size() != 3) {
      throw fail(path + ": expected 3 values (R, G, B), found " + node);
    }
    return values;
  }
}
