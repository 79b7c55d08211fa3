package io.shoplens.processor.app.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.evaluate.Evaluation;
import io.shoplens.processor.app.evaluate.EvaluationReport;
import io.shoplens.processor.app.evaluate.ReportPrinter;
import io.shoplens.processor.app.evaluate.WindowEvaluation;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code shoplens evaluate}: accuracy of one or two model bundles on a dataset split, or of two
 * versions' outputs on a replayed window of the live topics.
 */
@Command(
    name = "evaluate",
    description = {
      "Run model bundles through the Java engine over a dataset split",
      "(docs/dataset.md) and print accuracy per question type: exact, and normalised",
      "with the attribute vocabulary; confusions for colour and category; with two",
      "bundles, both side by side and the rows where they disagree.",
      "",
      "With --replay instead of --model/--data: compare two versions' outputs on a",
      "window of the live topics (after 'shoplens replay' with a new model), the same",
      "report, where the truth is known: uploads of catalog products (productId set and",
      "found in the catalog topic), questions asked in the templates' words. Outputs are",
      "read with read_committed; other outputs are counted as truth unknown and skipped.",
      "--config/--set are the live application's, as for 'shoplens replay'."
    })
final class EvaluateCommand extends CliCommand implements Callable<Integer> {
  @Option(
      names = {"-m", "--model"},
      paramLabel = "BUNDLE",
      description = "A model bundle directory (give two to compare them).")
  List<Path> models = new ArrayList<>();

  @Option(
      names = {"-d", "--data"},
      paramLabel = "DIR",
      description = "A dataset directory written by 'shoplens dataset build'.")
  Path data;

  @Option(
      names = "--replay",
      description = "Compare two versions' outputs on a window of the live topics (see above).")
  boolean replay;

  @Option(
      names = "--from",
      paramLabel = "TIME",
      converter = TimeConverter.class,
      description = "With --replay: window start, as for 'shoplens replay --from'.")
  Instant from;

  @Option(
      names = "--to",
      paramLabel = "TIME",
      converter = TimeConverter.class,
      description = "With --replay: window end (exclusive); default: the end offsets seen now.")
  Instant to;

  @Option(
      names = "--run-id",
      paramLabel = "ID",
      description =
          "With --replay: a replay run id to compare with the live run, or two run ids ('live' for"
              + " the live run); default: the two versions in the window.")
  List<String> runIds = new ArrayList<>();

  @Option(
      names = "--model-version",
      paramLabel = "VERSION",
      description =
          "With --replay: the model versions to compare (give two, or one with --run-id).")
  List<String> modelVersions = new ArrayList<>();

  @Mixin UploadLookbackOption uploadLookback;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      defaultValue = "30s",
      description =
          "With --replay: longest wait for the cluster, per call (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Mixin ConfigOptions configOptions;

  @Option(
      names = "--split",
      paramLabel = "SPLIT",
      defaultValue = "test",
      description = "The split to evaluate (default ${DEFAULT-VALUE}).")
  String split;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "0",
      description = "Evaluate at most N rows (default: all).")
  int limit;

  @Option(
      names = "--show",
      paramLabel = "N",
      defaultValue = "20",
      description = "Disagreements listed with two models (default ${DEFAULT-VALUE}).")
  int show;

  @Option(
      names = "--progress-every",
      paramLabel = "N",
      defaultValue = "100",
      description = "Print progress every N answers (default ${DEFAULT-VALUE}).")
  int progressEvery;

  @Option(
      names = "--vocabulary",
      paramLabel = "FILE",
      description = "An attribute vocabulary file (default: the built-in one recommendations use).")
  Path vocabulary;

  @Option(
      names = {"-o", "--out"},
      paramLabel = "FILE",
      description = "Also write the report as JSON.")
  Path out;

  @Override
  public Integer call() throws IOException, InterruptedException {
    PrintWriter stdout = out();
    if (replay) {
      return replayWindow(stdout);
    }
    if (models.isEmpty() || data == null) {
      throw new ShopLensCli.UsageException(
          "give --model BUNDLE [--model BUNDLE2] --data DIR, or --replay --from TIME");
    }
    if (from != null || to != null || !runIds.isEmpty() || !modelVersions.isEmpty()) {
      throw new ShopLensCli.UsageException(
          "--from, --to, --run-id and --model-version go with --replay");
    }
    if (models.size() > 2) {
      throw new ShopLensCli.UsageException("give one or two --model bundles, got " + models.size());
    }
    if (!Files.isDirectory(data)) {
      throw new ShopLensCli.UsageException("--data " + data + ": no such directory");
    }
    if (vocabulary != null) {
      ShopLensCli.requireFile("--vocabulary", vocabulary);
    }
    AttributeVocabulary vocab = vocabulary();
    Evaluation evaluation = new Evaluation(vocab, QuestionTemplates.defaults(), options(), stdout);
    EvaluationReport report;
    try {
      report = evaluation.run(models, data, split, EngineConfig.defaults());
    } catch (Evaluation.DatasetMismatchException e) {
      throw new ShopLensCli.UsageException(e.getMessage());
    }
    print(report, stdout);
    return ShopLensCli.OK;
  }

  private int replayWindow(PrintWriter stdout) throws IOException, InterruptedException {
    if (!models.isEmpty() || data != null) {
      throw new ShopLensCli.UsageException(
          "--replay reads the outputs from Kafka: give no --model or --data");
    }
    if (from == null) {
      throw new ShopLensCli.UsageException("--replay needs --from TIME (the replay's window)");
    }
    if (vocabulary != null) {
      ShopLensCli.requireFile("--vocabulary", vocabulary);
    }
    ShopLensConfig live = configOptions.load();
    WindowEvaluation.Request request =
        ShopLensCli.fromOptions(
            () ->
                new WindowEvaluation.Request(
                    from,
                    to,
                    uploadLookback.resolve(live),
                    runIds.stream().map(String::trim).toList(),
                    modelVersions.stream().map(String::trim).toList(),
                    timeout));
    AttributeVocabulary vocab = vocabulary();
    QuestionTemplates templates = QuestionTemplates.defaults();
    WindowEvaluation.Result result;
    try {
      result =
          new WindowEvaluation(
                  live,
                  request,
                  new Evaluation(vocab, templates, options(), stdout),
                  templates,
                  vocab,
                  stdout)
              .run();
    } catch (WindowEvaluation.NothingToCompareException e) {
      throw new ShopLensCli.UsageException(e.getMessage());
    }
    print(result.report(), stdout);
    return ShopLensCli.OK;
  }

  private Evaluation.Options options() {
    return ShopLensCli.fromOptions(() -> new Evaluation.Options(limit, 64, progressEvery, show));
  }

  private AttributeVocabulary vocabulary() {
    try {
      return vocabulary == null
          ? AttributeVocabulary.defaults()
          : AttributeVocabulary.load(vocabulary);
    } catch (IllegalArgumentException e) {
      throw new ShopLensCli.UsageException("--vocabulary: " + e.getMessage());
    }
  }

  private void print(EvaluationReport report, PrintWriter stdout) throws IOException {
    ReportPrinter.print(report, stdout);
    if (out != null) {
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(out.toFile(), report);
      stdout.println("report written to " + out);
    }
  }
}
