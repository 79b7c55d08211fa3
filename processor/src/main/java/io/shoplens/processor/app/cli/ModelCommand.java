package io.shoplens.processor.app.cli;

import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationBundles;
import io.shoplens.processor.inference.MemoryCheck;
import io.shoplens.processor.inference.MemoryEstimate;
import io.shoplens.processor.inference.T5Model;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.t5.T5Bundle;
import io.shoplens.processor.inference.t5.T5Manifest;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code shoplens model ...}: model bundle tools. */
@Command(
    name = "model",
    description = "Model bundle tools.",
    subcommands = {ModelCommand.Info.class, CommandLine.HelpCommand.class})
final class ModelCommand extends CommandGroup {
  ModelCommand() {
    super("missing subcommand (try shoplens model info <bundle>)");
  }

  /** {@code shoplens model info <bundle>}. */
  @Command(
      name = "info",
      description = {
        "Print a model bundle's manifest after verifying every file's size and sha256.",
        "Exits 1 if the bundle is missing, malformed or a checksum differs."
      })
  static final class Info extends CliCommand implements Callable<Integer> {
    @Parameters(paramLabel = "BUNDLE", description = "The bundle directory.")
    Path bundle;

    @Override
    public Integer call() {
      GenerationBundle loaded = GenerationBundles.load(bundle);
      PrintWriter out = out();
      out.printf("bundle        %s%n", loaded.directory());
      out.printf("model         %s%n", loaded.modelId());
      out.printf("version       %s%n", loaded.modelVersion());
      Map<String, ModelManifest.FileEntry> listed;
      MemoryEstimate estimate;
      long rowTokens;
      EngineConfig engine = EngineConfig.defaults();
      if (loaded instanceof T5Bundle t5) {
        T5Manifest m = t5.manifest();
        printT5(out, m);
        listed = m.files();
        estimate = MemoryEstimate.of(m, engine);
      } else {
        ModelManifest m = ((ModelBundle) loaded).manifest();
        printOpt(out, m);
        listed = m.files();
        estimate = MemoryEstimate.of(m, engine);
      }
      rowTokens = estimate.rowTokens();
      out.println("files (size and sha256 verified):");
      Map<String, ModelManifest.FileEntry> files = new TreeMap<>(listed);
      long total = 0;
      for (Map.Entry<String, ModelManifest.FileEntry> f : files.entrySet()) {
        total += f.getValue().bytes();
        out.printf(
            "  %-16s %12d bytes  sha256 %s  ok%n",
            f.getKey(), f.getValue().bytes(), f.getValue().sha256());
      }
      out.printf("checksums     %d files, %d bytes, all verified%n", files.size(), total);
      MemoryCheck.Available available = MemoryCheck.detectAvailable();
      out.printf(
          "memory        at least %s%n"
              + "              (engine defaults: batch %d, KV budget %d rows x %d positions;"
              + " see shoplens.inference.*)%n",
          estimate.describe(), engine.maxBatchSize(), engine.maxBatchSize(), rowTokens);
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

    private static void printOpt(PrintWriter out, ModelManifest m) {
      out.printf(
          "architecture  %s (%s), format %d%n", m.architecture(), m.dtype(), m.formatVersion());
      printVision(out, m.vision(), m.numQueryTokens());
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
    }

    private static void printT5(PrintWriter out, T5Manifest m) {
      out.printf("architecture  %s (float32), encoder-decoder%n", T5Manifest.ARCHITECTURE);
      printVision(out, m.vision(), m.numQueryTokens());
      T5Manifest.Text t = m.text();
      out.printf(
          "language      T5: %d encoder + %d decoder layers, hidden %d, %d heads of %d, vocab %d,"
              + " relative positions (encoder input up to %d tokens)%n",
          t.numEncoderLayers(),
          t.numLayers(),
          t.hiddenSize(),
          t.numHeads(),
          t.headDim(),
          t.vocabSize(),
          T5Model.MAX_ENCODER_TOKENS);
      out.printf(
          "tokens        decoder start %d, eos %d, pad %d, image %d, stop %s%n",
          m.tokens().decoderStartTokenId(),
          m.tokens().eosTokenId(),
          m.tokens().padTokenId(),
          m.tokens().imageTokenId(),
          m.tokens().stopTokenIds());
      out.printf(
          "prompt        %s (turns: %s)%n",
          m.prompt().questionTemplate(), m.prompt().turnTemplate());
    }

    private static void printVision(PrintWriter out, ModelManifest.Vision v, int queryTokens) {
      out.printf(
          "vision        %dx%d %s, %d query tokens%n",
          v.imageSize(), v.imageSize(), v.resample(), queryTokens);
    }
  }
}
