package io.shoplens.processor.app.evaluate;

import io.shoplens.processor.app.dataset.DatasetRow;
import io.shoplens.processor.app.dataset.JsonLines;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.dataset.Splits;
import io.shoplens.processor.app.evaluate.EvaluationReport.Comparison;
import io.shoplens.processor.app.evaluate.EvaluationReport.Confusion;
import io.shoplens.processor.app.evaluate.EvaluationReport.Disagreement;
import io.shoplens.processor.app.evaluate.EvaluationReport.ModelReport;
import io.shoplens.processor.app.evaluate.EvaluationReport.TypeScore;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationBundles;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Runs models over a dataset split (docs/dataset.md) through the Java engine and scores them: per
 * question type exact and vocabulary-normalised accuracy, confusions for colour and category, and
 * with two models their disagreements.
 *
 * <p>Questions are asked as the topology asks them: the question text wrapped in the bundle's
 * question template by the engine, attribute types with the topology's attribute decoding options,
 * other questions with its answer options; captions with no prompt and the caption options.
 *
 * <p>A dataset that does not fit (no rows of a type, missing images, unreadable lines, failed
 * requests) is reported in the report's notes; an empty split is refused.
 */
public final class Evaluation {
  /** The attribute types whose questions the topology asks with its attribute options. */
  private static final Set<String> ATTRIBUTE_TYPES =
      Set.of("category", "colour", "material", "pattern", "style");

  private static final List<String> CONFUSED = List.of("colour", "category");

  private final AttributeVocabulary vocabulary;
  private final QuestionTemplates templates;
  private final Options options;
  private final PrintWriter progress;

  /**
   * How an evaluation runs.
   *
   * @param limit evaluate at most this many rows of the split (0: all)
   * @param maxInFlight requests queued on the engine at once (it batches them)
   * @param progressEvery print a progress line every this many answers
   * @param listDisagreements disagreements listed in the report
   */
  public record Options(int limit, int maxInFlight, int progressEvery, int listDisagreements) {
    public Options {
      if (limit < 0 || maxInFlight < 1 || progressEvery < 1 || listDisagreements < 0) {
        throw new IllegalArgumentException(
            "expected limit >= 0, maxInFlight >= 1, progressEvery >= 1, listDisagreements >= 0,"
                + " got "
                + limit
                + ", "
                + maxInFlight
                + ", "
                + progressEvery
                + ", "
                + listDisagreements);
      }
    }

    /** All rows, 64 in flight, progress every 100 answers, 20 disagreements listed. */
    public static Options defaults() {
      return new Options(0, 64, 100, 20);
    }
  }

  /**
   * A model to evaluate, already loaded.
   *
   * @param name how the report names it (the bundle directory)
   * @param engine the engine; the caller closes it
   */
  public record ModelUnderTest(String name, InferenceEngine engine) {
    public ModelUnderTest {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(engine, "engine");
    }
  }

  /** The dataset cannot be evaluated at all: no {@code qa.jsonl}, or no rows in the split. */
  public static final class DatasetMismatchException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public DatasetMismatchException(String message) {
      super(message);
    }
  }

  /** The rows of one split whose images exist, and what was left out of them. */
  record Data(Path directory, String split, List<DatasetRow> rows, List<String> notes) {}

  /** One model's answer to one row; text null when the engine failed. */
  private record Answer(DatasetRow row, String text, String error) {}

  public Evaluation(
      AttributeVocabulary vocabulary, QuestionTemplates templates, Options options, Writer out) {
    this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
    this.templates = Objects.requireNonNull(templates, "templates");
    this.options = Objects.requireNonNull(options, "options");
    this.progress =
        out instanceof PrintWriter p
            ? p
            : new PrintWriter(Objects.requireNonNull(out, "out"), true);
  }

  /**
   * Evaluates one bundle on a split with the default vocabulary, templates and options, quietly:
   * for tests with accuracy thresholds.
   */
  public static EvaluationReport run(Path bundle, Path datasetDir, String split) {
    return new Evaluation(
            AttributeVocabulary.defaults(),
            QuestionTemplates.defaults(),
            Options.defaults(),
            Writer.nullWriter())
        .run(List.of(bundle), datasetDir, split, EngineConfig.defaults());
  }

  /**
   * Evaluates bundles one after the other (one engine loaded at a time) on a split.
   *
   * @throws DatasetMismatchException when the dataset is missing or the split has no rows
   * @throws io.shoplens.processor.inference.bundle.BundleException when a bundle does not load
   */
  public EvaluationReport run(
      List<Path> bundles, Path datasetDir, String split, EngineConfig engineConfig) {
    Data data = load(datasetDir, split);
    List<ModelAnswers> all = new ArrayList<>();
    for (Path bundle : bundles) {
      progress.printf("evaluate: loading %s%n", bundle);
      try (InferenceEngine engine =
          ShopLensApplication.loadEngine(GenerationBundles.load(bundle), engineConfig)) {
        all.add(answer(new ModelUnderTest(bundle.toString(), engine), data));
      }
    }
    return report(data, all);
  }

  /**
   * Evaluates engines the caller loaded (tests give a fixed-answer engine).
   *
   * @throws DatasetMismatchException when the dataset is missing or the split has no rows
   */
  public EvaluationReport evaluate(Path datasetDir, String split, List<ModelUnderTest> models) {
    Data data = load(datasetDir, split);
    List<ModelAnswers> all = new ArrayList<>();
    for (ModelUnderTest m : models) {
      all.add(answer(m, data));
    }
    return report(data, all);
  }

  /**
   * One answer produced elsewhere, e.g. an output read back from Kafka, to a row with a known
   * truth.
   *
   * @param row the question (or caption) and its truth
   * @param text what the model answered
   */
  public record Produced(DatasetRow row, String text) {
    public Produced {
      Objects.requireNonNull(row, "row");
      Objects.requireNonNull(text, "text");
    }
  }

  /**
   * A model's produced answers.
   *
   * @param name how the report names it
   * @param version the model version the answers carry
   * @param answers one per row, in the report's row order
   */
  public record ProducedAnswers(String name, String version, List<Produced> answers) {
    public ProducedAnswers {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(version, "version");
      answers = List.copyOf(answers);
    }
  }

  /**
   * Scores answers that were produced elsewhere, as {@link #evaluate} scores the engine's: the same
   * per-type accuracy, confusions and (with two models) disagreements.
   *
   * @param source what the rows came from, as the report names it
   * @param split the part of the source, as the report names it
   * @param notes what the caller left out, printed with the report's own notes
   * @param models one or two models that answered the same rows in the same order
   * @throws DatasetMismatchException when there are no rows
   * @throws IllegalArgumentException when the models did not answer the same rows
   */
  public EvaluationReport score(
      String source, String split, List<String> notes, List<ProducedAnswers> models) {
    if (models.isEmpty() || models.get(0).answers().isEmpty()) {
      throw new DatasetMismatchException(source + ": no rows with a known truth to score");
    }
    List<DatasetRow> rows = models.get(0).answers().stream().map(Produced::row).toList();
    List<ModelAnswers> all = new ArrayList<>();
    for (ProducedAnswers m : models) {
      List<DatasetRow> theirs = m.answers().stream().map(Produced::row).toList();
      if (!theirs.equals(rows)) {
        throw new IllegalArgumentException(
            m.name() + " answered other rows than " + models.get(0).name() + ": expected the same");
      }
      all.add(
          new ModelAnswers(
              m.name(),
              m.version(),
              m.answers().stream().map(a -> new Answer(a.row(), a.text(), null)).toList()));
    }
    return report(source, split, rows, notes, all);
  }

  // --- the dataset ----------------------------------------------------------------------------

  Data load(Path directory, String split) {
    Path qa = directory.resolve("qa.jsonl");
    if (!Files.isRegularFile(qa)) {
      throw new DatasetMismatchException(
          directory + ": no qa.jsonl (expected a dataset written by 'shoplens dataset build')");
    }
    List<DatasetRow> rows = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Map<String, Integer> perSplit = new TreeMap<>();
    int unreadable = 0;
    String firstUnreadable = null;
    int missing = 0;
    String firstMissing = null;
    try (JsonLines lines = JsonLines.open(qa)) {
      for (JsonLines.Line line = lines.next(); line != null; line = lines.next()) {
        DatasetRow row;
        try {
          row = DatasetRow.parse(line.text(), "");
        } catch (IllegalArgumentException e) {
          unreadable++;
          firstUnreadable =
              firstUnreadable == null
                  ? "line " + line.number() + ": " + e.getMessage()
                  : firstUnreadable;
          continue;
        }
        perSplit.merge(row.split(), 1, Integer::sum);
        if (!row.split().equals(split)) {
          continue;
        }
        if (options.limit() > 0 && rows.size() >= options.limit()) {
          continue;
        }
        if (!Files.isRegularFile(directory.resolve(row.image()))) {
          missing++;
          firstMissing = firstMissing == null ? row.image() : firstMissing;
          continue;
        }
        rows.add(row);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + qa, e);
    }
    if (unreadable > 0) {
      notes.add(
          unreadable + " unreadable lines in qa.jsonl skipped (first: " + firstUnreadable + ")");
    }
    if (missing > 0) {
      notes.add(missing + " rows skipped: image missing (first: " + firstMissing + ")");
    }
    if (rows.isEmpty()) {
      throw new DatasetMismatchException(
          directory
              + ": split '"
              + split
              + "' has no rows to evaluate"
              + (missing > 0 ? " (" + missing + " with missing images)" : "")
              + "; rows per split: "
              + (perSplit.isEmpty() ? "none" : perSplit));
    }
    if (!Splits.NAMES.contains(split)) {
      notes.add("split '" + split + "' is not one of " + Splits.NAMES);
    }
    return new Data(directory, split, List.copyOf(rows), notes);
  }

  // --- asking -----------------------------------------------------------------------------------

  private record ModelAnswers(String name, String version, List<Answer> answers) {}

  private ModelAnswers answer(ModelUnderTest model, Data data) {
    ShopLensTopologyConfig topology = topologyDefaults();
    Path dir = data.directory();
    List<Answer> answers = new ArrayList<>(data.rows().size());
    Deque<CompletableFuture<Answer>> inFlight = new ArrayDeque<>();
    long started = System.nanoTime();
    int i = 0;
    for (DatasetRow row : data.rows()) {
      byte[] image;
      try {
        image = Files.readAllBytes(dir.resolve(row.image()));
      } catch (IOException e) {
        inFlight.add(CompletableFuture.completedFuture(new Answer(row, null, e.toString())));
        continue;
      }
      CompletableFuture<GenerationResult> result;
      try {
        result = model.engine().submit(request("eval-" + i++, row, image, topology));
      } catch (RuntimeException e) {
        // An image the request refuses (empty file) or a rejected submit: this row fails, the
        // evaluation goes on.
        result = CompletableFuture.failedFuture(e);
      }
      inFlight.add(
          result.handle(
              (done, error) ->
                  error == null
                      ? new Answer(row, text(done), null)
                      : new Answer(row, null, describe(error))));
      while (inFlight.size() >= options.maxInFlight()) {
        collect(inFlight.removeFirst(), answers, data, model, started);
      }
    }
    while (!inFlight.isEmpty()) {
      collect(inFlight.removeFirst(), answers, data, model, started);
    }
    return new ModelAnswers(model.name(), model.engine().modelVersion(), answers);
  }

  private void collect(
      CompletableFuture<Answer> next,
      List<Answer> answers,
      Data data,
      ModelUnderTest model,
      long started) {
    answers.add(next.join());
    int done = answers.size();
    if (done % options.progressEvery() == 0 || done == data.rows().size()) {
      double seconds = (System.nanoTime() - started) / 1e9;
      progress.printf(
          Locale.ROOT,
          "evaluate: %s %d/%d rows, %.1f rows/s%n",
          model.name(),
          done,
          data.rows().size(),
          done / Math.max(seconds, 1e-9));
    }
  }

  private static GenerationRequest request(
      String id, DatasetRow row, byte[] image, ShopLensTopologyConfig topology) {
    if (row.question() == null) {
      return GenerationRequest.caption(id, image, topology.captionOptions(), 0);
    }
    DecodingOptions options =
        ATTRIBUTE_TYPES.contains(row.type())
            ? topology.attributeOptions()
            : topology.answerOptions();
    return GenerationRequest.question(id, image, row.question(), List.of(), options, 0);
  }

  /** The topology's decoding options: evaluation asks as production does. */
  private static ShopLensTopologyConfig topologyDefaults() {
    return ShopLensTopologyConfig.defaults();
  }

  private static String text(GenerationResult result) {
    return result.text() == null ? "" : result.text().strip();
  }

  private static String describe(Throwable error) {
    Throwable e =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  // --- scoring ----------------------------------------------------------------------------------

  private EvaluationReport report(Data data, List<ModelAnswers> all) {
    return report(data.directory().toString(), data.split(), data.rows(), data.notes(), all);
  }

  private EvaluationReport report(
      String source,
      String split,
      List<DatasetRow> rows,
      List<String> given,
      List<ModelAnswers> all) {
    List<String> notes = new ArrayList<>(given);
    Map<String, Integer> perType = new LinkedHashMap<>();
    templates.types().forEach(t -> perType.put(t, 0));
    rows.forEach(r -> perType.merge(r.type(), 1, Integer::sum));
    perType.forEach(
        (type, n) -> {
          if (n == 0) {
            notes.add("no rows of type '" + type + "' in split '" + split + "': not measured");
          }
        });
    List<ModelReport> models = new ArrayList<>();
    for (ModelAnswers m : all) {
      models.add(score(m, perType.keySet(), notes));
    }
    Comparison comparison = all.size() >= 2 ? compare(all.get(0), all.get(1)) : null;
    return new EvaluationReport(source, split, rows.size(), notes, models, comparison);
  }

  private ModelReport score(ModelAnswers m, Set<String> types, List<String> notes) {
    Map<String, int[]> counts = new LinkedHashMap<>(); // type -> rows, exact, normalised
    types.forEach(t -> counts.put(t, new int[3]));
    Map<String, Map<String, Map<String, Integer>>> confusions = new LinkedHashMap<>();
    CONFUSED.forEach(a -> confusions.put(a, new TreeMap<>()));
    int failed = 0;
    String firstFailure = null;
    for (Answer a : m.answers()) {
      int[] c = counts.computeIfAbsent(a.row().type(), t -> new int[3]);
      c[0]++;
      if (a.text() == null) {
        failed++;
        firstFailure = firstFailure == null ? a.error() : firstFailure;
        continue;
      }
      if (exact(a.row().answer(), a.text())) {
        c[1]++;
      }
      if (normalisedRight(a.row(), a.text())) {
        c[2]++;
      }
      if (confusions.containsKey(a.row().type())) {
        String truth = canonicalOr(a.row().type(), a.row().answer(), a.row().answer().strip());
        String answer = canonicalOr(a.row().type(), a.text(), Confusion.UNKNOWN);
        confusions
            .get(a.row().type())
            .computeIfAbsent(truth, k -> new TreeMap<>())
            .merge(answer, 1, Integer::sum);
      }
    }
    if (failed > 0) {
      notes.add(
          m.name()
              + ": "
              + failed
              + " requests failed, counted as wrong (first: "
              + firstFailure
              + ")");
    }
    Map<String, TypeScore> scores = new LinkedHashMap<>();
    counts.forEach((t, c) -> scores.put(t, new TypeScore(t, c[0], c[1], c[2])));
    Map<String, Confusion> matrices = new LinkedHashMap<>();
    confusions.forEach((a, c) -> matrices.put(a, new Confusion(a, c)));
    return new ModelReport(m.name(), m.version(), scores, matrices, failed);
  }

  private Comparison compare(ModelAnswers first, ModelAnswers second) {
    int rows = 0;
    int disagreements = 0;
    int onlyFirst = 0;
    int onlySecond = 0;
    List<Disagreement> listed = new ArrayList<>();
    for (int i = 0; i < first.answers().size(); i++) {
      Answer a = first.answers().get(i);
      Answer b = second.answers().get(i);
      if (a.text() == null || b.text() == null) {
        continue;
      }
      rows++;
      if (exact(a.text(), b.text())) {
        continue;
      }
      disagreements++;
      boolean aRight = normalisedRight(a.row(), a.text());
      boolean bRight = normalisedRight(b.row(), b.text());
      onlyFirst += aRight && !bRight ? 1 : 0;
      onlySecond += bRight && !aRight ? 1 : 0;
      if (listed.size() < options.listDisagreements()) {
        DatasetRow r = a.row();
        listed.add(
            new Disagreement(
                r.productId(), r.type(), r.question(), r.answer(), a.text(), b.text()));
      }
    }
    return new Comparison(
        first.version(), second.version(), rows, disagreements, onlyFirst, onlySecond, listed);
  }

  /** Trimmed, case-insensitive equality. */
  static boolean exact(String truth, String answer) {
    return truth.strip().equalsIgnoreCase(answer.strip());
  }

  /**
   * Whether an answer is right after the vocabulary's normalisation. A truth the vocabulary does
   * not know is compared exactly. A caption is right when it names the truth caption's colour and
   * kind (those the truth names).
   */
  boolean normalisedRight(DatasetRow row, String answer) {
    if (QuestionTemplates.CAPTION.equals(row.type())) {
      String colour = vocabulary.normalize("colour", row.answer());
      String kind = vocabulary.normalize("category", row.answer());
      if (colour == null && kind == null) {
        return exact(row.answer(), answer);
      }
      return (colour == null || colour.equals(vocabulary.normalize("colour", answer)))
          && (kind == null || kind.equals(vocabulary.normalize("category", answer)));
    }
    String truth = vocabulary.normalize(row.type(), row.answer());
    if (truth == null) {
      return exact(row.answer(), answer);
    }
    return truth.equals(vocabulary.normalize(row.type(), answer));
  }

  private String canonicalOr(String type, String text, String otherwise) {
    String c = vocabulary.normalize(type, text);
    return c == null ? otherwise : c;
  }

  /** Sorted labels of a confusion: every truth and every answer. */
  static List<String> labels(Confusion confusion) {
    Set<String> labels = new TreeSet<>(confusion.counts().keySet());
    confusion.counts().values().forEach(m -> labels.addAll(m.keySet()));
    return List.copyOf(labels);
  }
}
