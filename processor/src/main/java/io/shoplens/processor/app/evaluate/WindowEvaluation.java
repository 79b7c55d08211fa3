package io.shoplens.processor.app.evaluate;

import io.shoplens.events.ImageUploaded;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.dataset.DatasetRow;
import io.shoplens.processor.app.dataset.ProductTruth;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.replay.ReplayPlan;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Compares two model versions on a time window of the live topics, where the truth is known: after
 * {@code shoplens replay}, the live run's outputs and the replay's for the same inputs.
 *
 * <ol>
 *   <li>The window is the replay's: input offsets found by timestamp ({@link ReplayPlan}), uploads
 *       read back to the upload lookback so that questions in the window find theirs.
 *   <li>Answers and captions are read with {@code read_committed} from the first offset at or after
 *       the window's start (outputs carry their input's timestamp) to the end; those whose lineage
 *       names an input in the window count. They are grouped by version: model version and replay
 *       run id (none for the live run).
 *   <li>Each output is joined to its input and upload. Where the upload names a product of the
 *       compacted catalog topic with attributes, the truth follows from them as in a training set
 *       ({@link ProductTruth}): a question asked in one of the templates' phrasings gets the
 *       template's type and answer, a caption the catalog caption. Everything else is truth
 *       unknown, counted and skipped.
 *   <li>The rows both versions answered are scored by {@link Evaluation#score}, the dataset
 *       evaluation's own scoring.
 * </ol>
 *
 * <p>Reads only: partitions are assigned, no consumer group is created, nothing is written.
 *
 * <p>{@link WindowReader} reads the window (steps 1 and 2), {@link WindowTruth} states the truth
 * (step 3); this class chooses the two versions and scores them.
 */
public final class WindowEvaluation {
  /** The run id a request names the live run by. */
  public static final String LIVE = "live";

  private final ShopLensConfig live;
  private final Request request;
  private final Evaluation evaluation;
  private final WindowTruth truth;
  private final PrintWriter out;

  /**
   * What to compare.
   *
   * @param from window start (inclusive), as for the replay
   * @param to window end (exclusive), or null for the end offsets seen now
   * @param uploadLookback how far before {@code from} uploads are read for the window's questions
   * @param runIds the versions' run ids to keep ({@value #LIVE} for the live run); empty: any
   * @param modelVersions the model versions to keep; empty: any
   * @param timeout bound on each cluster call and on reading without progress
   */
  public record Request(
      Instant from,
      Instant to,
      Duration uploadLookback,
      List<String> runIds,
      List<String> modelVersions,
      Duration timeout) {
    public Request {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(uploadLookback, "uploadLookback");
      Objects.requireNonNull(timeout, "timeout");
      runIds = List.copyOf(runIds);
      modelVersions = List.copyOf(modelVersions);
      if (to != null && !to.isAfter(from)) {
        throw new IllegalArgumentException("expected --to after --from, got " + from + " to " + to);
      }
      if (runIds.size() > 2 || modelVersions.size() > 2) {
        throw new IllegalArgumentException(
            "give at most two run ids and two model versions, got "
                + runIds.size()
                + " and "
                + modelVersions.size());
      }
      if (uploadLookback.isNegative() || timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException(
            "expected uploadLookback >= 0 and timeout > 0, got " + uploadLookback + ", " + timeout);
      }
    }
  }

  /** The window cannot be compared: no outputs, one version, or versions not told apart. */
  public static final class NothingToCompareException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public NothingToCompareException(String message) {
      super(message);
    }
  }

  /**
   * A version of the outputs: which model and which run produced them.
   *
   * @param modelVersion the model version the outputs carry
   * @param runId the replay run id, or null for the live run
   */
  public record Version(String modelVersion, String runId) {
    /** The run as a request names it: the run id, or {@value #LIVE}. */
    public String run() {
      return runId == null ? LIVE : runId;
    }

    @Override
    public String toString() {
      return run() + " (model version " + modelVersion + ")";
    }
  }

  /**
   * Outputs of one version in the window.
   *
   * @param version the version
   * @param answers answers to questions in the window
   * @param captions captions of uploads in the window
   */
  public record VersionCount(Version version, int answers, int captions) {}

  /**
   * What was compared.
   *
   * @param versions every version found in the window, live first, with its outputs
   * @param compared the two versions compared, in report order (A, B)
   * @param truthUnknown outputs skipped because their truth is unknown, by reason
   * @param report the evaluation report of the two versions on the rows with a known truth
   */
  public record Result(
      List<VersionCount> versions,
      List<Version> compared,
      Map<String, Integer> truthUnknown,
      EvaluationReport report) {
    public Result {
      versions = List.copyOf(versions);
      compared = List.copyOf(compared);
      truthUnknown = Map.copyOf(truthUnknown);
    }

    /** Outputs skipped as truth unknown, all reasons. */
    public int truthUnknownTotal() {
      return truthUnknown.values().stream().mapToInt(Integer::intValue).sum();
    }
  }

  /** Reasons an output's truth is unknown. */
  static final String NO_PRODUCT = "upload of no catalog product";

  static final String NOT_IN_CATALOG = "product not in the catalog";
  static final String NO_ATTRIBUTES = "catalog product without usable attributes";
  static final String FREE_QUESTION = "question not in a template's words";
  static final String UPLOAD_UNSEEN = "upload before the lookback";

  /**
   * @param live the live application's configuration (cluster, registry, client security)
   * @param request what to compare
   * @param evaluation scores the rows (its vocabulary, templates and disagreement listing)
   * @param templates the question templates the truth is built with
   * @param vocabulary the attribute vocabulary the truth is built with
   * @param out where progress and the versions found are printed
   */
  public WindowEvaluation(
      ShopLensConfig live,
      Request request,
      Evaluation evaluation,
      QuestionTemplates templates,
      AttributeVocabulary vocabulary,
      PrintWriter out) {
    this.live = Objects.requireNonNull(live, "live");
    this.request = Objects.requireNonNull(request, "request");
    this.evaluation = Objects.requireNonNull(evaluation, "evaluation");
    this.out = Objects.requireNonNull(out, "out");
    this.truth =
        new WindowTruth(
            live,
            request,
            Objects.requireNonNull(templates, "templates"),
            Objects.requireNonNull(vocabulary, "vocabulary"),
            out);
  }

  /**
   * Reads the window and scores the two versions.
   *
   * @throws NothingToCompareException when the window has no outputs, one version only, or more
   *     than two that the request does not narrow to two
   * @throws IllegalStateException when the cluster does not answer within the timeout, or a topic
   *     is missing
   */
  public Result run() throws InterruptedException {
    WindowReader.Window window = new WindowReader(live, request, out).read();
    ReplayPlan plan = window.plan();
    Map<String, ImageUploaded> uploads = window.uploads();
    Collection<WindowInput> inputs = window.inputs();
    List<VersionCount> found = versions(inputs);
    if (found.isEmpty()) {
      throw new NothingToCompareException(
          "no answers or captions in the window from "
              + request.from()
              + (request.to() == null ? " to the end" : " to " + request.to())
              + " ("
              + plan.recordsPerTopic()
              + " input records): has the live application run on it?");
    }
    out.println("versions in the window:");
    found.forEach(
        v -> out.printf("  %s: %d answers, %d captions%n", v.version(), v.answers(), v.captions()));
    List<Version> compared = choose(found);
    return score(inputs, uploads, found, compared);
  }

  // --- versions ---------------------------------------------------------------------------------

  private static List<VersionCount> versions(Iterable<WindowInput> inputs) {
    Map<Version, int[]> counts = new LinkedHashMap<>();
    for (WindowInput i : inputs) {
      i.outputs
          .keySet()
          .forEach(v -> counts.computeIfAbsent(v, k -> new int[2])[i.question != null ? 0 : 1]++);
    }
    return counts.entrySet().stream()
        .map(e -> new VersionCount(e.getKey(), e.getValue()[0], e.getValue()[1]))
        // The live run first, then replays by run id (their ids start with the start time).
        .sorted(
            Comparator.comparing((VersionCount c) -> c.version().runId() != null)
                .thenComparing(c -> c.version().run())
                .thenComparing(c -> c.version().modelVersion()))
        .toList();
  }

  private List<Version> choose(List<VersionCount> found) {
    List<Version> kept =
        found.stream()
            .map(VersionCount::version)
            .filter(v -> request.runIds().isEmpty() || request.runIds().contains(v.run()))
            .filter(
                v ->
                    request.modelVersions().isEmpty()
                        || request.modelVersions().contains(v.modelVersion()))
            .toList();
    // One run id named: it is compared with the live run.
    if (request.runIds().size() == 1 && request.modelVersions().isEmpty()) {
      kept =
          found.stream()
              .map(VersionCount::version)
              .filter(v -> v.runId() == null || request.runIds().contains(v.run()))
              .toList();
    }
    String all = found.stream().map(v -> v.version().toString()).collect(Collectors.joining(", "));
    if (found.size() == 1) {
      throw new NothingToCompareException(
          "only one version in the window: "
              + all
              + ". Run 'shoplens replay' over it with another model first.");
    }
    if (kept.size() != 2) {
      throw new NothingToCompareException(
          (kept.size() < 2 ? "fewer" : "more")
              + " than two versions match"
              + (request.runIds().isEmpty() ? "" : " --run-id " + request.runIds())
              + (request.modelVersions().isEmpty()
                  ? ""
                  : " --model-version " + request.modelVersions())
              + ": "
              + (kept.isEmpty()
                  ? "none"
                  : kept.stream().map(Version::toString).collect(Collectors.joining(", ")))
              + ". Versions in the window: "
              + all
              + ". Name two with --run-id (live for the live run) or --model-version.");
    }
    return kept;
  }

  // --- truth and scoring ------------------------------------------------------------------------

  private Result score(
      Iterable<WindowInput> inputs,
      Map<String, ImageUploaded> uploads,
      List<VersionCount> found,
      List<Version> compared) {
    Version a = compared.get(0);
    Version b = compared.get(1);
    Map<String, Optional<ProductTruth>> catalog = truth.catalog();
    Map<String, Integer> unknown = new TreeMap<>();
    int onlyOne = 0;
    List<WindowInput> known = new ArrayList<>();
    List<DatasetRow> rows = new ArrayList<>();
    for (WindowInput input : inputs) {
      boolean hasA = input.outputs.containsKey(a);
      boolean hasB = input.outputs.containsKey(b);
      if (!hasA && !hasB) {
        continue;
      }
      String reason = null;
      DatasetRow row = null;
      ImageUploaded upload = uploads.get(input.uploadId);
      if (upload == null) {
        reason = UPLOAD_UNSEEN;
      } else if (upload.getProductId() == null) {
        reason = NO_PRODUCT;
      } else if (!catalog.containsKey(upload.getProductId())) {
        reason = NOT_IN_CATALOG;
      } else if (catalog.get(upload.getProductId()).isEmpty()) {
        reason = NO_ATTRIBUTES;
      } else {
        row = truth.row(input, upload.getProductId(), catalog.get(upload.getProductId()).get());
        reason = row == null ? FREE_QUESTION : null;
      }
      if (reason != null) {
        unknown.merge(reason, 1, Integer::sum);
        continue;
      }
      if (!hasA || !hasB) {
        onlyOne++;
        continue;
      }
      known.add(input);
      rows.add(row);
    }
    // Rows in input order: by time, then where they were written.
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < known.size(); i++) {
      order.add(i);
    }
    order.sort(
        Comparator.comparingLong((Integer i) -> known.get(i).timestamp)
            .thenComparing(i -> known.get(i).source.topic())
            .thenComparingInt(i -> known.get(i).source.partition())
            .thenComparingLong(i -> known.get(i).source.offset()));
    List<Evaluation.Produced> answersA = new ArrayList<>();
    List<Evaluation.Produced> answersB = new ArrayList<>();
    for (int i : order) {
      answersA.add(new Evaluation.Produced(rows.get(i), known.get(i).outputs.get(a)));
      answersB.add(new Evaluation.Produced(rows.get(i), known.get(i).outputs.get(b)));
    }
    List<String> notes = new ArrayList<>();
    int unknownTotal = unknown.values().stream().mapToInt(Integer::intValue).sum();
    if (unknownTotal > 0) {
      notes.add(
          unknownTotal
              + " rows skipped, truth unknown: "
              + unknown.entrySet().stream()
                  .map(e -> e.getValue() + " " + e.getKey())
                  .collect(Collectors.joining(", ")));
    }
    if (onlyOne > 0) {
      notes.add(onlyOne + " inputs with a known truth answered by only one of the two: skipped");
    }
    out.printf(
        "truth known for %d rows both versions answered; truth unknown for %d rows%n",
        rows.size(), unknownTotal);
    if (rows.isEmpty()) {
      throw new NothingToCompareException(
          "no input in the window has a known truth and outputs of both "
              + a
              + " and "
              + b
              + (notes.isEmpty() ? "" : " (" + String.join("; ", notes) + ")")
              + ": the truth is known only for uploads of catalog products (productId set)");
    }
    EvaluationReport report =
        evaluation.score(
            Topics.ANSWERS + " + " + Topics.CAPTIONS,
            "window "
                + request.from()
                + " to "
                + (request.to() == null ? "the end" : request.to().toString()),
            notes,
            List.of(
                new Evaluation.ProducedAnswers(a.run(), a.modelVersion(), answersA),
                new Evaluation.ProducedAnswers(b.run(), b.modelVersion(), answersB)));
    return new Result(found, compared, unknown, report);
  }
}
