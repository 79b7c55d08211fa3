package io.shoplens.processor.app.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The committed demo model ({@code models/fashion-blip2-opt}, trained by {@code
 * scripts/train-demo-model}) through the Java engine, on the held-out products it never saw ({@code
 * datasets/fashion-heldout}, 150 products, 3,012 rows).
 *
 * <p>What it proves: the trained bundle, with the real GPT-2 byte-level BPE vocabulary, answers
 * colour and kind questions right and captions the product by its colour and kind on unseen
 * products, through the same engine the topology uses (the targets: colour and kind at
 * least 90 %, pattern at least 85 %, captions at least 80 %), and the Java engine's answers score
 * exactly what the Python ONNX Runtime reference loop scored when the bundle was made ({@code
 * eval-heldout-float32.json}), type by type.
 */
class TrainedDemoModelTest {
  private static final Path BUNDLE = Path.of("..", "models", "fashion-blip2-opt");
  private static final Path HELD_OUT =
      Path.of("src", "test", "resources", "datasets", "fashion-heldout");

  private static EvaluationReport report;

  @BeforeAll
  static void evaluateOnce() {
    // When: the whole held-out split is asked through the Java engine
    report = Evaluation.run(BUNDLE, HELD_OUT, "test");
  }

  @Test
  void shouldAnswerColourAndKindRightOnProductsItNeverSaw() {
    // Then: colour and kind are answered right at least 90% of the time
    assertThat(report.accuracy("colour")).isGreaterThanOrEqualTo(0.90);
    assertThat(report.models().get(0).exactAccuracy("colour")).isGreaterThanOrEqualTo(0.90);
    assertThat(report.accuracy("category")).isGreaterThanOrEqualTo(0.90);
    assertThat(report.models().get(0).exactAccuracy("category")).isGreaterThanOrEqualTo(0.90);
  }

  @Test
  void shouldCaptionProductsItNeverSawByTheirColourAndKind() {
    // Then: at least 80% of the captions name the product's colour and kind
    assertThat(report.accuracy("caption")).isGreaterThanOrEqualTo(0.80);
  }

  @Test
  void shouldAnswerPatternRightOnProductsItNeverSaw() {
    // Then: solid, striped, dotted and checked are told apart at least 85% of the time
    assertThat(report.accuracy("pattern")).isGreaterThanOrEqualTo(0.85);
    assertThat(report.models().get(0).exactAccuracy("pattern")).isGreaterThanOrEqualTo(0.85);
  }

  @Test
  void shouldScoreWhatPythonOnnxRuntimeScoredOnTheSameBundleForEveryType() throws IOException {
    // Given: the Python reference loop's scores, recorded when the bundle was exported
    JsonNode python =
        new ObjectMapper().readTree(BUNDLE.resolve("eval-heldout-float32.json").toFile());
    assertThat(python.path("model_version").asText())
        .isEqualTo(report.models().get(0).modelVersion());

    // Then: every type scores the same (Python rounds to four decimals)
    Iterator<Map.Entry<String, JsonNode>> types = python.path("accuracy").fields();
    int compared = 0;
    while (types.hasNext()) {
      Map.Entry<String, JsonNode> t = types.next();
      assertThat(report.accuracy(t.getKey()))
          .as("accuracy of %s", t.getKey())
          .isCloseTo(t.getValue().path("accuracy").asDouble(), within(0.00006));
      compared++;
    }
    assertThat(compared).isEqualTo(7);
  }
}
