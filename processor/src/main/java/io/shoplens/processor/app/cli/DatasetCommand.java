package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.dataset.CatalogProduct;
import io.shoplens.processor.app.dataset.CatalogTopicReader;
import io.shoplens.processor.app.dataset.DatasetBuilder;
import io.shoplens.processor.app.dataset.ProductsFile;
import io.shoplens.processor.app.dataset.QuestionTemplates;
import io.shoplens.processor.app.dataset.ResolverImageFetcher;
import io.shoplens.processor.app.dataset.Skips;
import io.shoplens.processor.app.dataset.Splits;
import io.shoplens.processor.images.ImageResolverConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code shoplens dataset ...}: training sets from the catalog. */
@Command(
    name = "dataset",
    description = "Training sets from the catalog (format: docs/dataset.md).",
    subcommands = {DatasetCommand.Build.class, CommandLine.HelpCommand.class})
final class DatasetCommand extends CommandGroup {
  DatasetCommand() {
    super("missing subcommand (try dataset build)");
  }

  /** {@code shoplens dataset build}. */
  @Command(
      name = "build",
      description = {
        "Build a training set (images, question/answer pairs, captions) from the",
        "compacted catalog topic or a products.jsonl file, plus curated rows.",
        "Images are fetched by ShopLens's image resolver with the run configuration's",
        "shoplens.image.* settings (allow-list, size and time limits).",
        "Products or rows that cannot be used are skipped, one line each, and counted."
      })
  static final class Build extends CliCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
      @Option(
          names = {"-b", "--bootstrap"},
          paramLabel = "HOST:PORT",
          description = "Kafka brokers: read the catalog topic.")
      String bootstrap;

      @Option(
          names = "--products",
          paramLabel = "FILE",
          description = "A products.jsonl (image paths relative to it) instead of Kafka.")
      Path products;
    }

    @Option(
        names = {"-r", "--registry"},
        paramLabel = "URL",
        description = "Schema Registry URL (with --bootstrap).")
    String registry;

    @Option(
        names = {"-o", "--out"},
        required = true,
        paramLabel = "DIR",
        description = "The dataset directory to write (created; must be empty or absent).")
    Path out;

    @Option(
        names = "--topic",
        paramLabel = "TOPIC",
        defaultValue = Topics.CATALOG_PRODUCTS,
        description = "The catalog topic (default ${DEFAULT-VALUE}).")
    String topic;

    @Option(
        names = "--curated",
        paramLabel = "FILE",
        description = "Curated rows in the qa.jsonl format, images relative to it (repeatable).")
    List<Path> curated = new ArrayList<>();

    @Option(
        names = "--seed",
        paramLabel = "N",
        defaultValue = "0",
        description = "Seed of the split assignment (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(
        names = "--val-fraction",
        paramLabel = "F",
        defaultValue = "0.1",
        description = "Share of products in val (default ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(
        names = "--test-fraction",
        paramLabel = "F",
        defaultValue = "0.1",
        description = "Share of products in test (default ${DEFAULT-VALUE}).")
    double testFraction;

    @Option(
        names = "--progress-every",
        paramLabel = "N",
        defaultValue = "100",
        description = "Print progress every N products (default ${DEFAULT-VALUE}).")
    int progressEvery;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        defaultValue = "60s",
        converter = DurationConverter.class,
        description = "Longest wait for the broker without progress (default ${DEFAULT-VALUE}).")
    Duration timeout;

    // The run configuration: client security, registry and shoplens.image.*.
    @Mixin ConfigOptions configOptions;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = out();
      Splits splits = ShopLensCli.fromOptions(() -> new Splits(seed, valFraction, testFraction));
      if (progressEvery < 1) {
        throw new ShopLensCli.UsageException("--progress-every must be at least 1");
      }
      if (source.bootstrap != null && registry == null) {
        throw new ShopLensCli.UsageException("--bootstrap needs --registry");
      }
      for (Path file : curated) {
        ShopLensCli.requireFile("--curated", file);
      }
      if (source.products != null) {
        ShopLensCli.requireFile("--products", source.products);
      }
      if (Files.isDirectory(this.out)) {
        try (Stream<Path> entries = Files.list(this.out)) {
          if (entries.findAny().isPresent()) {
            throw new ShopLensCli.UsageException(
                "--out " + this.out + " is not empty; choose a new directory");
          }
        }
      } else if (Files.exists(this.out)) {
        throw new ShopLensCli.UsageException("--out " + this.out + " is a file");
      }
      Map<String, String> settings = new HashMap<>(configOptions.merge().settings());
      ImageResolverConfig images = ShopLensConfig.imageResolverConfig(settings);

      Skips skips = new Skips(out);
      List<CatalogProduct> products;
      String from;
      if (source.products != null) {
        products = ProductsFile.read(source.products, skips);
        from = "products:" + source.products;
        out.printf("catalog: %d products in %s%n", products.size(), source.products);
      } else {
        Map<String, Object> props =
            ConfigOptions.clientSettings(settings, source.bootstrap, registry);
        products = CatalogTopicReader.read(props, topic, timeout, progressEvery, out, skips);
        from = "kafka:" + source.bootstrap + "/" + topic;
      }
      try (ResolverImageFetcher fetcher = new ResolverImageFetcher(images)) {
        new DatasetBuilder(
                QuestionTemplates.defaults(),
                AttributeVocabulary.defaults(),
                splits,
                fetcher,
                progressEvery,
                out)
            .build(products, curated, this.out, from, skips);
      }
      return ShopLensCli.OK;
    }
  }
}
