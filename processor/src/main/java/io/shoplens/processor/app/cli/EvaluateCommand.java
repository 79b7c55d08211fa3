package io.shoplens.processor.app.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.evaluate.Evaluation;
import io.shoplens.processor.app.evaluate.EvaluationReport;
import io.shoplens.processor.app.evaluate.ReportPrinter;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shoplens evaluate}: accuracy of one or two model bundles on a dataset split. */
@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Run model bundles through the Java engine over a dataset split",
      "(docs/dataset.md) and print accuracy per question type: exact, and normalised",
      "with the attribute vocabulary; confusions for colour and category; with two",
      "bundles, both side by side and the rows where they disagree."
    })
final class EvaluateCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-m", "--model"},
      required = true,
      paramLabel = "BUNDLE",
      description = "A model bundle directory (give two to compare them).")
  List<Path> models = new ArrayList<>();

  @Option(
      names = {"-d", "--data"},
      required = true,
      paramLabel = "DIR",
      description = "A dataset directory written by 'shoplens dataset build'.")
  Path data;

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
  public Integer call() throws IOException {
    PrintWriter stdout = spec.commandLine().getOut();
    if (models.size() > 2) {
      throw new ShopLensCli.UsageException("give one or two --model bundles, got " + models.size());
    }
    if (!Files.isDirectory(data)) {
      throw new ShopLensCli.UsageException("--data " + data + ": no such directory");
    }
    if (vocabulary != null && !Files.isRegularFile(vocabulary)) {
      throw new ShopLensCli.UsageException("--vocabulary " + vocabulary + ": no such file");
    }
    Evaluation.Options options;
    try {
      options = new Evaluation.Options(limit, 64, progressEvery, show);
    } catch (IllegalArgumentException e) {
      throw new ShopLensCli.UsageException(e.getMessage());
    }
    AttributeVocabulary vocab;
    try {
      vocab =
          vocabulary == null
              ? AttributeVocabulary.defaults()
              : AttributeVocabulary.load(vocabulary);
    } catch (IllegalArgumentException e) {
      throw new ShopLensCli.UsageException("--vocabulary: " + e.getMessage());
    }
    Evaluation evaluation = new Evaluation(vocab, QuestionTemplates.defaults(), options, stdout);
    EvaluationReport report;
    try {
      report = evaluation.run(models, data, split, EngineConfig.defaults());
    } catch (Evaluation.DatasetMismatchException e) {
      throw new ShopLensCli.UsageException(e.getMessage());
    }
    ReportPrinter.print(report, stdout);
    if (out != null) {
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .writeValue(out.toFile(), report);
      stdout.println("report written to " + out);
    }
    return ShopLensCli.OK;
  }
}
