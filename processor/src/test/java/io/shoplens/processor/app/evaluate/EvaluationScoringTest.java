package io.shoplens.processor.app.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.shoplens.processor.app.dataset.DatasetRow;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.evaluate.EvaluationReport.Comparison;
import io.shoplens.processor.app.evaluate.EvaluationReport.Confusion;
import io.shoplens.processor.app.evaluate.EvaluationReport.ModelReport;
import io.shoplens.processor.app.evaluate.EvaluationReport.TypeScore;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scoring with fixed-answer engines, so that every count is known: exact against normalised
 * accuracy, caption scoring, confusions, failures, disagreements, and what does not fit.
 */
class EvaluationScoringTest {
  static final Path IMAGES = Path.of("src/test/resources/images");

  @TempDir Path data;

  /** Model A: right after normalisation almost everywhere; one request fails. */
  static final Map<String, String> ANSWERS_A =
      Map.of(
          "What colour is it?", "Navy Blue",
          "what colour is the shirt?", "white",
          "What type of product is this?", "a tee",
          "What is this?", "trainers",
          "Is this shoe suitable for outdoor activities?", "Yes",
          "caption", "a white shirt with stripes",
          "Which colour?", FakeEngine.FAIL);

  final FakeEngine modelA = new FakeEngine().version("model-a").answeringFrom(ANSWERS_A);

  /** Model B: right exactly twice, wrong three times. */
  static final Map<String, String> ANSWERS_B =
      Map.of(
          "What colour is it?", "blue",
          "what colour is the shirt?", "it is red",
          "What type of product is this?", "t-shirt",
          "What is this?", "boots",
          "Is this shoe suitable for outdoor activities?", "yes",
          "caption", "a red shirt",
          "Which colour?", "green");

  final FakeEngine modelB = new FakeEngine().version("model-b").answeringFrom(ANSWERS_B);

  @BeforeEach
  void dataset() throws IOException {
    Files.createDirectories(data.resolve("images"));
    Files.copy(IMAGES.resolve("gray.png"), data.resolve("images/a.png"));
    Files.copy(IMAGES.resolve("wide.png"), data.resolve("images/b.png"));
    List<DatasetRow> rows =
        List.of(
            row("a.png", "colour", "What colour is it?", "navy blue", "test"),
            row("a.png", "colour", "what colour is the shirt?", "white", "test"),
            row("a.png", "category", "What type of product is this?", "t-shirt", "test"),
            row("a.png", "category", "What is this?", "sneakers", "test"),
            row("a.png", "rule", "Is this shoe suitable for outdoor activities?", "yes", "test"),
            row("b.png", "caption", null, "a white striped shirt", "test"),
            row("b.png", "colour", "Which colour?", "green", "test"),
            row("a.png", "colour", "What colour is it?", "white", "train"),
            row("gone.png", "colour", "What colour is it?", "red", "test"));
    List<String> lines = new ArrayList<>();
    rows.forEach(r -> lines.add(r.toJson()));
    lines.add("{not json");
    Files.write(data.resolve("qa.jsonl"), lines);
  }

  @Test
  void shouldScoreExactAndNormalisedAccuracyPerType() {
    // When model A is evaluated on the test split
    EvaluationReport report = evaluation(20).evaluate(data, "test", List.of(under(modelA)));

    // Then each type has the counts its answers give
    ModelReport a = report.models().get(0);
    assertThat(report.rows()).isEqualTo(7);
    assertThat(a.modelVersion()).isEqualTo("model-a");
    assertThat(a.types().get("colour")).isEqualTo(new TypeScore("colour", 3, 2, 2));
    assertThat(a.types().get("category")).isEqualTo(new TypeScore("category", 2, 0, 2));
    assertThat(a.types().get("rule")).isEqualTo(new TypeScore("rule", 1, 1, 1));
    // The caption names the right colour (white) and kind (shirt), but is not the same text
    assertThat(a.types().get("caption")).isEqualTo(new TypeScore("caption", 1, 0, 1));
    assertThat(a.types().get("material")).isEqualTo(new TypeScore("material", 0, 0, 0));
    assertThat(a.types().keySet()).containsExactlyElementsOf(QuestionTemplates.defaults().types());
    assertThat(a.failed()).isEqualTo(1);
    assertThat(report.accuracy("colour")).isCloseTo(2 / 3.0, within(1e-9));
    assertThat(a.exactAccuracy("category")).isZero();
    assertThat(report.comparison()).isNull();
  }

  @Test
  void shouldSayWhatDidNotFitInsteadOfDividingByZero() {
    EvaluationReport report = evaluation(20).evaluate(data, "test", List.of(under(modelA)));

    assertThat(report.notes())
        .anyMatch(n -> n.contains("no rows of type 'material'"))
        .anyMatch(n -> n.contains("no rows of type 'style'"))
        .anyMatch(n -> n.contains("1 rows skipped: image missing (first: images/gone.png)"))
        .anyMatch(n -> n.contains("1 unreadable lines in qa.jsonl"))
        .anyMatch(n -> n.contains("1 requests failed") && n.contains("decoder failed"));
    assertThatThrownBy(() -> report.accuracy("material"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no rows of type 'material'");
    assertThat(report.models().get(0).types().get("material").normalisedAccuracy()).isNaN();
  }

  @Test
  void shouldCountConfusionsOfCanonicalValues() {
    EvaluationReport report =
        evaluation(20).evaluate(data, "test", List.of(under(modelA), under(modelB)));

    Confusion colourB = report.models().get(1).confusions().get("colour");
    assertThat(colourB.counts())
        .isEqualTo(
            Map.of(
                "blue", Map.of("blue", 1),
                "white", Map.of("red", 1),
                "green", Map.of("green", 1)));
    Confusion categoryB = report.models().get(1).confusions().get("category");
    assertThat(categoryB.count("sneakers", "boots")).isEqualTo(1);
    assertThat(categoryB.count("t-shirt", "t-shirt")).isEqualTo(1);
    // The failed request of A is not in A's matrix
    assertThat(report.models().get(0).confusions().get("colour").counts())
        .isEqualTo(Map.of("blue", Map.of("blue", 1), "white", Map.of("white", 1)));
  }

  @Test
  void shouldListTheDisagreementsOfTwoModelsAndWhoWasRight() {
    // When both models are evaluated, with two disagreements listed
    EvaluationReport report =
        evaluation(2).evaluate(data, "test", List.of(under(modelA), under(modelB)));

    // Then B's own scores are side by side with A's
    ModelReport b = report.models().get(1);
    assertThat(b.types().get("colour")).isEqualTo(new TypeScore("colour", 3, 1, 2));
    assertThat(b.types().get("category")).isEqualTo(new TypeScore("category", 2, 1, 1));
    assertThat(b.types().get("caption")).isEqualTo(new TypeScore("caption", 1, 0, 0));
    // And of the 6 rows both answered they disagree on 5 ("Yes" = "yes"); only A is right on 3
    Comparison c = report.comparison();
    assertThat(c.first()).isEqualTo("model-a");
    assertThat(c.second()).isEqualTo("model-b");
    assertThat(c.rows()).isEqualTo(6);
    assertThat(c.disagreements()).isEqualTo(5);
    assertThat(c.onlyFirstRight()).isEqualTo(3);
    assertThat(c.onlySecondRight()).isZero();
    assertThat(c.listed())
        .containsExactly(
            new EvaluationReport.Disagreement(
                "p-a.png", "colour", "What colour is it?", "navy blue", "Navy Blue", "blue"),
            new EvaluationReport.Disagreement(
                "p-a.png", "colour", "what colour is the shirt?", "white", "white", "it is red"));
  }

  @Test
  void shouldScoreAnswersProducedElsewhereAsItScoresTheEnginesAnswers() {
    // Given the answers both models give to the test split, as if read back from Kafka (the row
    // that A failed on left out: outputs of a window exist only for requests that succeeded)
    Evaluation evaluation = evaluation(20);
    EvaluationReport asked =
        evaluation.evaluate(data, "test", List.of(under(modelA), under(modelB)));
    List<DatasetRow> rows =
        evaluation.load(data, "test").rows().stream()
            .filter(r -> !"Which colour?".equals(r.question()))
            .toList();
    List<Evaluation.Produced> a = new ArrayList<>();
    List<Evaluation.Produced> b = new ArrayList<>();
    for (DatasetRow r : rows) {
      String key = r.question() == null ? "caption" : r.question();
      a.add(new Evaluation.Produced(r, ANSWERS_A.get(key)));
      b.add(new Evaluation.Produced(r, ANSWERS_B.get(key)));
    }

    // When they are scored
    EvaluationReport scored =
        evaluation.score(
            "window",
            "w",
            List.of("a note"),
            List.of(
                new Evaluation.ProducedAnswers("a", "model-a", a),
                new Evaluation.ProducedAnswers("b", "model-b", b)));

    // Then every type, confusion and disagreement is what the dataset evaluation counted
    assertThat(scored.rows()).isEqualTo(6);
    assertThat(scored.notes()).contains("a note");
    for (int m = 0; m < 2; m++) {
      ModelReport engine = asked.models().get(m);
      ModelReport produced = scored.models().get(m);
      assertThat(produced.modelVersion()).isEqualTo(engine.modelVersion());
      for (String type : engine.types().keySet()) {
        TypeScore e = engine.types().get(type);
        // The row left out: A failed on it (wrong there), B answered it right ("green")
        int lessRows = type.equals("colour") ? 1 : 0;
        int lessRight = type.equals("colour") && m == 1 ? 1 : 0;
        assertThat(produced.types().get(type))
            .as(type)
            .isEqualTo(
                new TypeScore(
                    type, e.rows() - lessRows, e.exact() - lessRight, e.normalised() - lessRight));
      }
    }
    assertThat(scored.models().get(0).confusions()).isEqualTo(asked.models().get(0).confusions());
    assertThat(scored.models().get(1).confusions().get("category"))
        .isEqualTo(asked.models().get(1).confusions().get("category"));
    assertThat(scored.models().get(1).confusions().get("colour").counts())
        .isEqualTo(Map.of("blue", Map.of("blue", 1), "white", Map.of("red", 1)));
    assertThat(scored.comparison()).isEqualTo(asked.comparison());
  }

  @Test
  void shouldRefuseProducedAnswersOfDifferentRows() {
    DatasetRow colour = row("a.png", "colour", "What colour is it?", "white", "w");
    DatasetRow kind = row("a.png", "category", "What is this?", "shirt", "w");

    assertThatThrownBy(
            () ->
                evaluation(20)
                    .score(
                        "window",
                        "w",
                        List.of(),
                        List.of(
                            new Evaluation.ProducedAnswers(
                                "a", "v1", List.of(new Evaluation.Produced(colour, "white"))),
                            new Evaluation.ProducedAnswers(
                                "b", "v2", List.of(new Evaluation.Produced(kind, "shirt"))))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("b answered other rows than a");
    assertThatThrownBy(() -> evaluation(20).score("window", "w", List.of(), List.of()))
        .isInstanceOf(Evaluation.DatasetMismatchException.class)
        .hasMessageContaining("no rows with a known truth");
  }

  @Test
  void shouldAskAsTheTopologyDoes() {
    evaluation(20).evaluate(data, "test", List.of(under(modelA)));

    ShopLensTopologyConfig topology = ShopLensTopologyConfig.defaults();
    assertThat(modelA.submitted)
        .filteredOn(r -> "What colour is it?".equals(r.question()))
        .allSatisfy(r -> assertThat(r.options()).isEqualTo(topology.attributeOptions()));
    assertThat(modelA.submitted)
        .filteredOn(r -> r.question() == null)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.prompt()).isNull();
              assertThat(r.options()).isEqualTo(topology.captionOptions());
            });
    assertThat(modelA.submitted)
        .filteredOn(r -> r.question() != null && r.question().startsWith("Is this shoe"))
        .allSatisfy(r -> assertThat(r.options()).isEqualTo(topology.answerOptions()));
  }

  @Test
  void shouldRefuseAnEmptySplitNamingTheSplitsThereAre() {
    assertThatThrownBy(() -> evaluation(20).evaluate(data, "val", List.of(under(modelA))))
        .isInstanceOf(Evaluation.DatasetMismatchException.class)
        .hasMessageContaining("split 'val' has no rows")
        .hasMessageContaining("{test=8, train=1}");
    assertThat(modelA.submitted).isEmpty();
  }

  @Test
  void shouldCountARowWhoseImageTheEngineRefusesAsFailedAndGoOn() throws IOException {
    // Given a test split whose first image file is empty
    Files.write(data.resolve("images/empty.png"), new byte[0]);
    Files.write(
        data.resolve("qa.jsonl"),
        List.of(
            row("empty.png", "colour", "What colour is it?", "white", "test").toJson(),
            row("a.png", "colour", "what colour is the shirt?", "white", "test").toJson()));

    // When it is evaluated
    EvaluationReport report = evaluation(20).evaluate(data, "test", List.of(under(modelA)));

    // Then that row failed, and the next one was still answered
    assertThat(report.models().get(0).failed()).isEqualTo(1);
    assertThat(report.models().get(0).types().get("colour"))
        .isEqualTo(new TypeScore("colour", 2, 1, 1));
    assertThat(report.notes()).anyMatch(n -> n.contains("image bytes are empty"));
  }

  @Test
  void shouldStopAtTheLimit() {
    EvaluationReport report =
        new Evaluation(
                AttributeVocabulary.defaults(),
                QuestionTemplates.defaults(),
                new Evaluation.Options(3, 2, 1, 0),
                Writer.nullWriter())
            .evaluate(data, "test", List.of(under(modelA)));
    assertThat(report.rows()).isEqualTo(3);
    assertThat(modelA.submitted).hasSize(3);
  }

  @Test
  void shouldPrintModelsSideBySideWithConfusionsAndDisagreements() {
    EvaluationReport report =
        evaluation(1).evaluate(data, "test", List.of(under(modelA), under(modelB)));
    StringWriter text = new StringWriter();
    ReportPrinter.print(report, new PrintWriter(text, true));

    assertThat(text.toString())
        .contains("model A: a (version model-a)")
        .contains("model B: b (version model-b)")
        .containsPattern("colour\\s+3\\s+66\\.7%\\s+66\\.7%\\s+33\\.3%\\s+66\\.7%")
        .containsPattern("material\\s+0\\s+-\\s+-")
        .contains("model B colour confusion (rows: truth, columns: answer)")
        .contains(
            "A (model-a) and B (model-b) disagree on 5 of 6 rows: only A right 3, only B right 0")
        .contains("'What colour is it?' truth 'navy blue': A 'Navy Blue', B 'blue'")
        .contains("... 4 more")
        .contains("no rows of type 'pattern'");
  }

  private Evaluation evaluation(int listed) {
    return new Evaluation(
        AttributeVocabulary.defaults(),
        QuestionTemplates.defaults(),
        new Evaluation.Options(0, 4, 100, listed),
        Writer.nullWriter());
  }

  private static Evaluation.ModelUnderTest under(FakeEngine engine) {
    return new Evaluation.ModelUnderTest(
        engine.modelVersion().substring("model-".length()), engine);
  }

  private static DatasetRow row(
      String image, String type, String question, String answer, String split) {
    return new DatasetRow("images/" + image, "p-" + image, type, question, answer, split, null);
  }
}
