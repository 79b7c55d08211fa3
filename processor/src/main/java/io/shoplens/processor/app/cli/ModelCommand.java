package io.shoplens.processor.app.cli;

import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.MemoryCheck;
import io.shoplens.processor.inference.MemoryEstimate;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code shoplens model ...}: model bundle tools. */
@Command(
    name = "model",
    mixinStandardHelpOptions = true,
    description = "Model bundle tools.",
    subcommands = {ModelCommand.Info.class, picocli.CommandLine.HelpCommand.class})
final class ModelCommand extends CommandGroup {
  ModelCommand() {
    super("missing subcommand (try shoplens model info <bundle>)");
  }

  /** {@code shoplens model info <bundle>}. */
  @Command(
      name = "info",
      mixinStandardHelpOptions = true,
      description = {
        "Print a model bundle's manifest after verifying every file's size and sha256.",
        "Exits 1 if the bundle is missing, malformed or a checksum differs."
      })
  static final class Info implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "BUNDLE", description = "The bundle directory.")
    Path bundle;

    @Override
    public Integer call() {
      ModelBundle loaded = ModelBundle.load(bundle);
      ModelManifest m = loaded.manifest();
      PrintWriter out = spec.commandLine().getOut();
      out.printf("bundle        %s%n", loaded.directory());
      out.printf("model         %s%n", m.modelId());
      out.printf("version       %s%n", m.modelVersion());
      out.printf(
          "architecture  %s (%s), format %d%n", m.architecture(), m.dtype(), m.formatVersion());
      out.printf(
          "vision        %dx%d %s, %d query tokens%n",
          m.vision().imageSize(),
          m.vision().imageSize(),
          m.vision().resample(),
          m.numQueryTokens());
      out.printf(
          "language      %d layers, hidden %d, %d heads, vocab %d, %d positions%n",
          m.text().numLayers(),
          m.text().hiddenSize(),
          m.text().numHeads(),
          m.text().vocabSize(),
          m.text().maxPositionEmbeddings());
      out.printf(
          "tokens        bos %d, eos %d, pad %d, image %d, stop %s%n",
          m.tokens().bosTokenId(),
          m.tokens().eosTokenId(),
          m.tokens().padTokenId(),
          m.tokens().imageTokenId(),
          m.tokens().stopTokenIds());
      out.printf("prompt        %s%n", m.prompt().questionTemplate());
      out.println("files (size and sha256 verified):");
      Map<String, ModelManifest.FileEntry> files = new TreeMap<>(m.files());
      long total = 0;
      for (Map.Entry<String, ModelManifest.FileEntry> f : files.entrySet()) {
        total += f.getValue().bytes();
        out.printf(
            "  %-16s %12d bytes  sha256 %s  ok%n",
            f.getKey(), f.getValue().bytes(), f.getValue().sha256());
      }
      out.printf("checksums     %d files, %d bytes, all verified%n", files.size(), total);
      EngineConfig engine = EngineConfig.defaults();
      MemoryEstimate estimate = MemoryEstimate.of(m, engine);
      MemoryCheck.Available available = MemoryCheck.detectAvailable();
      out.printf(
          "memory        at least %s%n"
              + "              (engine defaults: batch %d, KV budget %d rows x %d positions;"
              + " see shoplens.inference.*)%n",
          estimate.describe(),
          engine.maxBatchSize(),
          engine.maxBatchSize(),
          m.text().maxPositionEmbeddings());
      out.printf(
          "available     %s (%s): %s%n",
          MemoryEstimate.human(available.bytes()),
          available.source(),
          estimate.totalBytes() <= available.bytes()
              ? "fits"
              : estimate.minimumBytes() <= available.bytes()
                  ? "fits with one full-length row of KV ("
                      + MemoryEstimate.human(estimate.minimumBytes())
                      + "); starts with a warning: set shoplens.inference.kv.budget.bytes="
                      + estimate.kvBudgetFitting(available.bytes())
                  : "does NOT fit even with one full-length row of KV ("
                      + MemoryEstimate.human(estimate.minimumBytes())
                      + "): refused at start");
      return ShopLensCli.OK;
    }
  }
}
