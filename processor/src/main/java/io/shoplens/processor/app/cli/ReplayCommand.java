package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.replay.ReplayRequest;
import io.shoplens.processor.app.replay.ReplayRunner;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shoplens replay}: re-run inference over a time window with another model. */
@Command(
    name = "replay",
    description = {
      "Re-run inference over past uploads and questions with a model bundle, under its own",
      "application id, beside the live application and without touching its offsets or state.",
      "",
      "Reads the input records stamped from --from (inclusive) to --to (exclusive; default: the",
      "end offsets seen at start), stops by itself, and prints progress and a summary. Outputs",
      "go to the usual topics, naming the model version and carrying lineage replayRunId and",
      "header shoplens.replay.run-id, so consumers can tell them from the live run's.",
      "",
      "The cluster, registry and topology settings come from --config, the environment and",
      "--set, as for 'shoplens run' (the live application's file); application.id there is the",
      "live id, which is refused."
    })
final class ReplayCommand extends CliCommand implements Callable<Integer> {
  @Option(
      names = "--from",
      required = true,
      paramLabel = "TIME",
      converter = TimeConverter.class,
      description =
          "Window start, ISO-8601: 2025-01-31T12:00:00Z, 2025-01-31T13:00+01:00, or without a"
              + " zone (read as UTC): 2025-01-31T12:00, 2025-01-31.")
  Instant from;

  @Option(
      names = "--to",
      paramLabel = "TIME",
      converter = TimeConverter.class,
      description = "Window end (exclusive), same formats; default: the end offsets seen at start.")
  Instant to;

  @Option(
      names = "--uploads",
      paramLabel = "ID",
      split = ",",
      description = "Only these upload ids (and the questions about them), comma-separated.")
  List<String> uploads = List.of();

  @Option(
      names = "--model",
      required = true,
      paramLabel = "BUNDLE",
      description = "Model bundle directory to replay with (checksums verified first).")
  Path model;

  @Option(
      names = "--application-id",
      required = true,
      paramLabel = "ID",
      description =
          "The replay's own Kafka Streams application id (consumer group, internal topics, state);"
              + " must differ from the live one and not have been used before.")
  String applicationId;

  @Option(
      names = "--dry-run",
      description = "Print the partitions, offsets and record counts it would process, and exit.")
  boolean dryRun;

  @Mixin UploadLookbackOption uploadLookback;

  @Option(
      names = "--cache-size",
      paramLabel = "N",
      defaultValue = "10000",
      description = "Results kept by the replay's result cache (default: ${DEFAULT-VALUE}).")
  int cacheSize;

  @Option(
      names = "--progress-interval",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      defaultValue = "2s",
      description = "How often progress is printed (default: ${DEFAULT-VALUE}).")
  Duration progressInterval;

  @Mixin ConfigOptions configOptions;

  @Override
  public Integer call() throws InterruptedException {
    ShopLensConfig live = configOptions.load();
    Set<String> ids = new LinkedHashSet<>();
    uploads.stream().map(String::trim).filter(s -> !s.isEmpty()).forEach(ids::add);
    ReplayRequest request =
        ShopLensCli.fromOptions(
            () ->
                new ReplayRequest(
                    from,
                    to,
                    ids,
                    model,
                    applicationId.trim(),
                    dryRun,
                    uploadLookback.resolve(live),
                    cacheSize));
    ReplayRunner runner =
        new ReplayRunner(
            live,
            request,
            new ReplayRunner.Settings(progressInterval, Duration.ofSeconds(30), Map.of()),
            out());
    Duration wait = live.shutdownTimeout().plusSeconds(30);
    Thread hook = new Thread(() -> runner.cancelAndAwait(wait), "shoplens-replay-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      ReplayRunner.Result result = runner.run();
      return result.summary() == null || result.summary().completed()
          ? ShopLensCli.OK
          : ShopLensCli.FAILURE;
    } catch (ReplayRunner.ReplayRefusedException e) {
      throw new ShopLensCli.UsageException(e.getMessage());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Already shutting down: the hook is running.
      }
    }
  }
}
