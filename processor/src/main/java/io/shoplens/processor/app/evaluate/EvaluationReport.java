package io.shoplens.processor.app.evaluate;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What an evaluation measured: per model, accuracy per question type and confusions; with two
 * models, their disagreements. Built by {@link Evaluation}; printed by {@link ReportPrinter};
 * serialisable as JSON (Jackson reads records).
 *
 * @param dataset the dataset directory
 * @param split the split evaluated
 * @param rows rows evaluated (after the limit, without rows whose image is missing)
 * @param notes what did not fit: types without rows, missing images, unreadable lines, failures
 * @param models one report per model, in the order given
 * @param comparison the first two models compared, or null with one model
 */
public record EvaluationReport(
    String dataset,
    String split,
    int rows,
    List<String> notes,
    List<ModelReport> models,
    Comparison comparison) {

  public EvaluationReport {
    notes = List.copyOf(notes);
    models = List.copyOf(models);
    if (models.isEmpty()) {
      throw new IllegalArgumentException("an evaluation report needs at least one model");
    }
  }

  /** The first model's {@linkplain ModelReport#accuracy(String) accuracy} for a type. */
  public double accuracy(String type) {
    return models.get(0).accuracy(type);
  }

  /**
   * One model's scores.
   *
   * @param bundle the bundle directory (or the engine's name in tests)
   * @param modelVersion the version its results carry
   * @param types scores per row type, in the templates' order, types without rows included
   * @param confusions truth against answer for {@code colour} and {@code category}
   * @param failed rows the engine failed on (counted as wrong)
   */
  public record ModelReport(
      String bundle,
      String modelVersion,
      Map<String, TypeScore> types,
      Map<String, Confusion> confusions,
      int failed) {

    public ModelReport {
      types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
      confusions = Collections.unmodifiableMap(new LinkedHashMap<>(confusions));
    }

    /**
     * The vocabulary-normalised accuracy of a type in [0, 1] (for captions: the share that names
     * the right colour and kind).
     *
     * @throws IllegalArgumentException when the split has no rows of the type: there is nothing to
     *     divide by, and a threshold check must not pass on nothing
     */
    public double accuracy(String type) {
      return score(type).normalisedAccuracy();
    }

    /** The exact (trimmed, case-insensitive) accuracy of a type in [0, 1]; throws as above. */
    public double exactAccuracy(String type) {
      return score(type).exactAccuracy();
    }

    private TypeScore score(String type) {
      TypeScore s = types.get(type);
      if (s == null || s.rows() == 0) {
        throw new IllegalArgumentException(
            "no rows of type '" + type + "' were evaluated, so it has no accuracy");
      }
      return s;
    }
  }

  /**
   * Counts of one row type.
   *
   * @param type the row type
   * @param rows rows evaluated
   * @param exact answers equal to the truth, trimmed and ignoring case
   * @param normalised answers whose canonical value (attribute vocabulary) equals the truth's; for
   *     captions, captions that name the truth's colour and kind
   */
  public record TypeScore(String type, int rows, int exact, int normalised) {
    public TypeScore {
      Objects.requireNonNull(type, "type");
      if (rows < 0 || exact < 0 || normalised < 0 || exact > rows || normalised > rows) {
        throw new IllegalArgumentException(
            type
                + ": expected 0 <= exact, normalised <= rows, got "
                + exact
                + ", "
                + normalised
                + " of "
                + rows);
      }
    }

    /** exact / rows; NaN when there are no rows. */
    public double exactAccuracy() {
      return rows == 0 ? Double.NaN : exact / (double) rows;
    }

    /** normalised / rows; NaN when there are no rows. */
    public double normalisedAccuracy() {
      return rows == 0 ? Double.NaN : normalised / (double) rows;
    }
  }

  /**
   * How often each true value was answered as each value (canonical values; {@value #UNKNOWN} for
   * an answer the vocabulary does not recognise).
   *
   * @param attribute {@code colour} or {@code category}
   * @param counts truth to answer to count, both sorted
   */
  public record Confusion(String attribute, Map<String, Map<String, Integer>> counts) {
    /** The label of answers with no canonical value. */
    public static final String UNKNOWN = "(unknown)";

    public Confusion {
      Objects.requireNonNull(attribute, "attribute");
      Map<String, Map<String, Integer>> copy = new TreeMap<>();
      counts.forEach((k, v) -> copy.put(k, Collections.unmodifiableMap(new TreeMap<>(v))));
      counts = Collections.unmodifiableMap(copy);
    }

    /** How often {@code truth} was answered as {@code answer}. */
    public int count(String truth, String answer) {
      return counts.getOrDefault(truth, Map.of()).getOrDefault(answer, 0);
    }
  }

  /**
   * Two models on the same rows.
   *
   * @param first the first model's version
   * @param second the second model's version
   * @param rows rows both answered
   * @param disagreements rows where their answers differ (trimmed, ignoring case)
   * @param onlyFirstRight disagreements where only the first is right (normalised)
   * @param onlySecondRight disagreements where only the second is right
   * @param listed the first disagreements, in dataset order
   */
  public record Comparison(
      String first,
      String second,
      int rows,
      int disagreements,
      int onlyFirstRight,
      int onlySecondRight,
      List<Disagreement> listed) {
    public Comparison {
      listed = List.copyOf(listed);
    }
  }

  /**
   * One row the two models answered differently.
   *
   * @param productId the row's product
   * @param type the row type
   * @param question the question, or null for a caption
   * @param truth the true answer
   * @param first the first model's answer
   * @param second the second model's answer
   */
  public record Disagreement(
      String productId, String type, String question, String truth, String first, String second) {}
}
