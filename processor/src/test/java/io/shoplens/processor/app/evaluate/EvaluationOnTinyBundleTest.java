package io.shoplens.processor.app.evaluate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.app.dataset.DatasetRow;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shoplens evaluate} and {@link Evaluation#run} through the real engine on the committed
 * random tiny bundles. Their answers are gibberish, so these tests check structure and counts, and
 * that a dataset whose truth is the model's own greedy output scores 100%.
 */
class EvaluationOnTinyBundleTest {
  static final Path MODEL_A = Path.of("src/test/resources/models/tiny-blip2-opt");
  static final Path MODEL_B = Path.of("src/test/resources/models/tiny-blip2-opt-b");
  static final Path IMAGES = Path.of("src/test/resources/images");

  @TempDir Path data;

  final List<DatasetRow> rows = new ArrayList<>();

  @BeforeEach
  void dataset() throws IOException {
    Files.createDirectories(data.resolve("images"));
    Files.copy(IMAGES.resolve("gray.png"), data.resolve("images/p1.png"));
    Files.copy(IMAGES.resolve("photo.jpg"), data.resolve("images/p2.jpg"));
    for (String image : List.of("images/p1.png", "images/p2.jpg")) {
      String product = image.substring(7, 9);
      rows.add(
          new DatasetRow(image, product, "colour", "What colour is it?", "white", "test", null));
      rows.add(
          new DatasetRow(
              image, product, "category", "What type of product is this?", "shirt", "test", null));
      rows.add(new DatasetRow(image, product, "caption", null, "a white shirt", "test", null));
    }
    write(rows);
  }

  @Test
  void shouldReportEveryTypeOfTheSplitForTheTinyBundle() {
    // When the Java API used by accuracy tests evaluates the bundle
    EvaluationReport report = Evaluation.run(MODEL_A, data, "test");

    // Then every row was answered, and counted under its type
    assertThat(report.rows()).isEqualTo(6);
    EvaluationReport.ModelReport a = report.models().get(0);
    assertThat(a.failed()).isZero();
    assertThat(a.bundle()).isEqualTo(MODEL_A.toString());
    assertThat(a.types().get("colour").rows()).isEqualTo(2);
    assertThat(a.types().get("category").rows()).isEqualTo(2);
    assertThat(a.types().get("caption").rows()).isEqualTo(2);
    assertThat(report.accuracy("colour")).isBetween(0.0, 1.0);
    int confused =
        a.confusions().get("colour").counts().values().stream()
            .flatMap(m -> m.values().stream())
            .mapToInt(Integer::intValue)
            .sum();
    assertThat(confused).isEqualTo(2);
  }

  @Test
  void shouldScoreFullMarksWhenTheTruthIsTheModelsOwnGreedyOutput() throws Exception {
    // Given a dataset whose truths are what the tiny model answers, asked as the topology asks
    ShopLensTopologyConfig topology = ShopLensTopologyConfig.defaults();
    List<DatasetRow> truth = new ArrayList<>();
    try (BatchingInferenceEngine engine =
        BatchingInferenceEngine.start(MODEL_A, EngineConfig.defaults())) {
      int i = 0;
      for (DatasetRow r : rows) {
        byte[] image = Files.readAllBytes(data.resolve(r.image()));
        GenerationRequest request =
            r.question() == null
                ? GenerationRequest.caption("t" + i++, image, topology.captionOptions(), 0)
                : GenerationRequest.question(
                    "t" + i++, image, r.question(), List.of(), topology.attributeOptions(), 0);
        String said = engine.submit(request).get().text().strip();
        truth.add(
            new DatasetRow(
                r.image(), r.productId(), r.type(), r.question(), said, r.split(), null));
      }
    }
    write(truth);

    // When the bundle is evaluated on it
    EvaluationReport report = Evaluation.run(MODEL_A, data, "test");

    // Then every answer is exactly right
    for (String type : List.of("colour", "category", "caption")) {
      assertThat(report.models().get(0).exactAccuracy(type)).as(type).isEqualTo(1.0);
    }
  }

  @Test
  void shouldCompareTwoBundlesFromTheCommandLineAndWriteTheReport() throws IOException {
    Path json = data.resolve("report.json");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    int code =
        ShopLensCli.execute(
            new String[] {
              "evaluate",
              "--model",
              MODEL_A.toString(),
              "--model",
              MODEL_B.toString(),
              "--data",
              data.toString(),
              "--out",
              json.toString(),
              "--progress-every",
              "3"
            },
            Map.of(),
            new PrintWriter(out, true),
            new PrintWriter(err, true));

    assertThat(code).as(out + "\n" + err).isEqualTo(ShopLensCli.OK);
    assertThat(out.toString())
        .contains("evaluate: " + MODEL_A + " 3/6 rows")
        .contains("evaluate: " + MODEL_B + " 6/6 rows")
        .contains("split 'test' of " + data + ": 6 rows")
        .contains("colour confusion")
        .containsPattern("A \\(.+\\) and B \\(.+\\) disagree on \\d of 6 rows")
        .contains("no rows of type 'material'");
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("rows").asInt()).isEqualTo(6);
    assertThat(report.get("models")).hasSize(2);
    assertThat(report.get("models").get(1).get("types").get("caption").get("rows").asInt())
        .isEqualTo(2);
    assertThat(report.get("comparison").get("rows").asInt()).isEqualTo(6);
  }

  @Test
  void shouldExitWithUsageForAnEmptySplitAndFailureForABrokenBundle() {
    StringWriter err = new StringWriter();
    int empty =
        ShopLensCli.execute(
            new String[] {
              "evaluate", "--model", MODEL_A.toString(), "--data", data.toString(), "--split", "val"
            },
            Map.of(),
            new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true));
    assertThat(empty).isEqualTo(ShopLensCli.USAGE);
    assertThat(err.toString()).contains("split 'val' has no rows");

    int broken =
        ShopLensCli.execute(
            new String[] {"evaluate", "--model", data.toString(), "--data", data.toString()},
            Map.of(),
            new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true));
    assertThat(broken).isEqualTo(ShopLensCli.FAILURE);

    int noData =
        ShopLensCli.execute(
            new String[] {"evaluate", "--model", MODEL_A.toString(), "--data", "no-such-dir"},
            Map.of(),
            new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true));
    assertThat(noData).isEqualTo(ShopLensCli.USAGE);
  }

  private void write(List<DatasetRow> list) throws IOException {
    Files.write(data.resolve("qa.jsonl"), list.stream().map(DatasetRow::toJson).toList());
  }
}
