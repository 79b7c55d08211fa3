package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the package rules of {@code docs/package-rules.md}: the topology knows nothing about ONNX
 * Runtime or the model bundle, and the inference engine knows nothing about Kafka. Scans the source
 * files (main and test), so a fully qualified name in code counts as much as an import.
 */
class ArchitectureGuardTest {
  private static final Path MAIN = Path.of("src/main/java/io/shoplens/processor");
  private static final Path TEST = Path.of("src/test/java/io/shoplens/processor");

  @Test
  void shouldKeepTopologyFreeOfOnnxRuntimeAndBundleInternals() throws IOException {
    List<String> violations =
        scan(
            "topology",
            Pattern.compile(
                "\\b(ai\\.onnxruntime|io\\.shoplens\\.processor\\.inference\\.(onnx|bundle))\\b"));
    assertThat(violations).as("topology sources naming ONNX Runtime or bundle internals").isEmpty();
  }

  @Test
  void shouldKeepInferenceFreeOfKafka() throws IOException {
    List<String> violations = scan("inference", Pattern.compile("\\borg\\.apache\\.kafka\\b"));
    assertThat(violations).as("inference sources naming Kafka").isEmpty();
  }

  @Test
  void shouldKeepImageFetchingFreeOfKafkaAndOnnxRuntime() throws IOException {
    // Fetching images is HTTP and policy: the topology uses it, not the other way round, and it
    // needs neither Kafka nor the model.
    List<String> violations =
        scan(
            "images",
            Pattern.compile(
                "\\b(org\\.apache\\.kafka|ai\\.onnxruntime|io\\.shoplens\\.processor\\.topology)\\b"));
    assertThat(violations)
        .as("image fetching sources naming Kafka, ONNX Runtime or the topology")
        .isEmpty();
  }

  @Test
  void shouldScanRealSourcesSoThatTheGuardCanFail() throws IOException {
    // The guards above pass vacuously if the directories moved: check they still find code, and
    // that the same patterns do find what they look for where it is allowed.
    assertThat(scan("topology", Pattern.compile("\\borg\\.apache\\.kafka\\b"))).isNotEmpty();
    assertThat(scan("inference", Pattern.compile("\\bai\\.onnxruntime\\b"))).isNotEmpty();
    assertThat(scan("images", Pattern.compile("\\bio\\.shoplens\\.events\\b"))).isNotEmpty();
  }

  private static List<String> scan(String pkg, Pattern forbidden) throws IOException {
    List<String> hits = new ArrayList<>();
    for (Path root : List.of(MAIN.resolve(pkg), TEST.resolve(pkg))) {
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(root)) {
        for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
          List<String> lines = Files.readAllLines(file);
          for (int i = 0; i < lines.size(); i++) {
            Matcher m = forbidden.matcher(lines.get(i));
            if (m.find()) {
              hits.add(file + ":" + (i + 1) + ": " + lines.get(i).strip());
            }
          }
        }
      }
    }
    return hits;
  }
}
