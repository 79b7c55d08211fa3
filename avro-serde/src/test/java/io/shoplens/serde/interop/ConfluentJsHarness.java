package io.shoplens.serde.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs Confluent's official JavaScript Avro serde ({@code @confluentinc/schemaregistry}, through
 * {@code src/test/js/harness.js}) in a {@code node} child process: one job, one process.
 *
 * <p>The npm packages are not part of the build; CI installs them with {@code npm ci --prefix
 * avro-serde/src/test/js} ({@code scripts/setup-node}). When they are missing this class fails with
 * that command rather than letting the interop test pass without running.
 */
final class ConfluentJsHarness {

  /** The harness directory, relative to the {@code avro-serde} module (Surefire's working dir). */
  static final Path DIR = Path.of("src", "test", "js");

  private static final String INSTALL_HINT =
      "Confluent's JavaScript serde is not installed. Install it with"
          + " `npm ci --prefix avro-serde/src/test/js` from the repository root (scripts/setup-node"
          + " does this; it needs Node.js 18 or later and npm).";
  private static final long TIMEOUT_SECONDS = 120;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** How the JavaScript side holds Avro longs (avsc's default number, or BigInt). */
  enum Longs {
    /** avsc's default: a JS number; longs beyond 2^53 are refused, never rounded. */
    NUMBER,
    /** A BigInt long type handed to avsc through the serde's config: the full long range. */
    BIGINT
  }

  private final Longs longs;
  private final List<ObjectNode> registrations = new ArrayList<>();
  private final List<ObjectNode> serialize = new ArrayList<>();
  private final List<ObjectNode> deserialize = new ArrayList<>();

  ConfluentJsHarness(Longs longs) {
    this.longs = longs;
  }

  /** Registers a schema under a subject in the JS {@code MockClient}, in call order. */
  ConfluentJsHarness register(String subject, String schemaJson) {
    registrations.add(JSON.createObjectNode().put("subject", subject).put("schema", schemaJson));
    return this;
  }

  /** Asks Confluent's {@code AvroSerializer} to write {@code value} (canonical JSON) to a topic. */
  ConfluentJsHarness serialize(String name, String topic, JsonNode value) {
    ObjectNode item = JSON.createObjectNode().put("name", name).put("topic", topic);
    item.set("value", value);
    serialize.add(item);
    return this;
  }

  /** Asks Confluent's {@code AvroDeserializer} to read {@code payload} from a topic. */
  ConfluentJsHarness deserialize(String name, String topic, byte[] payload) {
    deserialize.add(
        JSON.createObjectNode()
            .put("name", name)
            .put("topic", topic)
            .put("bytes", Base64.getEncoder().encodeToString(payload)));
    return this;
  }

  /** Runs the job in one {@code node} process and returns what the JS serde produced. */
  Result run(Path workDir) throws IOException, InterruptedException {
    Path harness = DIR.resolve("harness.js").toAbsolutePath();
    Path serde = DIR.resolve("node_modules").resolve("@confluentinc").resolve("schemaregistry");
    if (!Files.isDirectory(serde)) {
      throw new IllegalStateException(INSTALL_HINT + " Missing: " + serde.toAbsolutePath());
    }
    ObjectNode job = JSON.createObjectNode().put("longs", longs.name().toLowerCase());
    job.putArray("registrations").addAll(registrations);
    job.putArray("serialize").addAll(serialize);
    job.putArray("deserialize").addAll(deserialize);
    Path jobFile = workDir.resolve("job-" + longs.name().toLowerCase() + ".json");
    Path resultFile = workDir.resolve("result-" + longs.name().toLowerCase() + ".json");
    Path log = workDir.resolve("node-" + longs.name().toLowerCase() + ".log");
    JSON.writerWithDefaultPrettyPrinter().writeValue(jobFile.toFile(), job);

    Process node;
    try {
      node =
          new ProcessBuilder("node", harness.toString(), jobFile.toString(), resultFile.toString())
              .directory(DIR.toAbsolutePath().toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
    } catch (IOException e) {
      throw new IllegalStateException(
          "Cannot start `node` (Node.js 18 or later must be on the PATH). " + INSTALL_HINT, e);
    }
    if (!node.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      node.destroyForcibly();
      throw new IllegalStateException(
          "node harness.js did not finish within " + TIMEOUT_SECONDS + " s; output: " + read(log));
    }
    if (node.exitValue() != 0) {
      throw new IllegalStateException(
          "node harness.js exited with " + node.exitValue() + ": " + read(log));
    }
    return new Result(JSON.readTree(resultFile.toFile()));
  }

  private static String read(Path log) throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  /** What one harness run produced; per-record failures are kept, not thrown. */
  static final class Result {
    private final JsonNode root;
    private final Map<String, JsonNode> serialized = new LinkedHashMap<>();
    private final Map<String, JsonNode> deserialized = new LinkedHashMap<>();

    private Result(JsonNode root) {
      this.root = root;
      root.get("serialized").forEach(n -> serialized.put(n.get("name").asText(), n));
      root.get("deserialized").forEach(n -> deserialized.put(n.get("name").asText(), n));
    }

    /** For example {@code @confluentinc/schemaregistry@1.10.1}. */
    String packageVersion() {
      return root.get("package").asText();
    }

    /** The ids the JS {@code MockClient} gave, by subject, in registration order. */
    Map<String, Integer> registeredIds() {
      Map<String, Integer> ids = new LinkedHashMap<>();
      ArrayNode regs = (ArrayNode) root.get("registrations");
      regs.forEach(n -> ids.put(n.get("subject").asText(), n.get("id").asInt()));
      return ids;
    }

    /** The Confluent wire-format bytes the JS serializer wrote for {@code name}. */
    byte[] serialized(String name) {
      JsonNode item = item(serialized, name, "serialize");
      return Base64.getDecoder().decode(item.get("bytes").asText());
    }

    /** The canonical JSON of the value the JS deserializer read for {@code name}. */
    JsonNode deserialized(String name) {
      return item(deserialized, name, "deserialize").get("value");
    }

    /** The JS error for {@code name}, or null when the JS serde succeeded. */
    String serializeError(String name) {
      JsonNode item = serialized.get(name);
      return item == null || !item.has("error") ? null : item.get("error").asText();
    }

    /** The JS error for {@code name}, or null when the JS serde succeeded. */
    String deserializeError(String name) {
      JsonNode item = deserialized.get(name);
      return item == null || !item.has("error") ? null : item.get("error").asText();
    }

    private static JsonNode item(Map<String, JsonNode> items, String name, String what) {
      JsonNode item = items.get(name);
      if (item == null) {
        throw new AssertionError("The JS harness returned nothing to " + what + " " + name);
      }
      if (item.has("error")) {
        throw new AssertionError(
            "Confluent's JS serde failed to " + what + " " + name + ": " + item.get("error"));
      }
      return item;
    }
  }
}
