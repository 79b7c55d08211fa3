package io.shoplens.processor.inference;

import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.bundle.ManifestFields;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.t5.T5Bundle;
import io.shoplens.processor.inference.t5.T5Manifest;
import java.nio.file.Path;

/**
 * Loads a generation bundle of any architecture the engine serves, and opens the matching model:
 * the manifest's {@code architecture} picks {@link ModelBundle} / {@link Blip2Model} ({@code
 * blip2-opt}) or {@link T5Bundle} / {@link T5Model} ({@code blip2-t5}). Everything above the engine
 * (the application, {@code shoplens model info}, replay, evaluate) loads bundles here, so a T5
 * bundle runs wherever an OPT bundle does.
 */
public final class GenerationBundles {
  private GenerationBundles() {}

  /**
   * Reads, validates and checksums a bundle.
   *
   * @throws BundleException naming the file and what was expected: a missing directory or file, a
   *     malformed manifest, an architecture the engine does not serve, a size or sha256 mismatch
   */
  public static GenerationBundle load(Path directory) {
    Path dir = ManifestFields.bundleDirectory(directory);
    ManifestFields m = ManifestFields.read(dir);
    String architecture = m.text(m.root(), "architecture");
    // Each loader validates the rest, its own architecture included, and names the other kinds.
    return architecture.equals(T5Manifest.ARCHITECTURE)
        ? T5Bundle.load(dir)
        : ModelBundle.load(dir);
  }

  /**
   * Opens a loaded bundle's graphs and tokenizer as the engine's model.
   *
   * @throws BundleException naming the graph file whose inputs or outputs differ from the manifest
   * @throws EngineStartupException when ONNX Runtime cannot open a graph, or the model does not fit
   *     in memory
   */
  static EngineModel open(GenerationBundle bundle, EngineConfig config) {
    if (bundle instanceof T5Bundle t5) {
      return T5Model.open(t5, config);
    }
    if (bundle instanceof ModelBundle opt) {
      return Blip2Model.open(opt, config);
    }
    throw new IllegalArgumentException(
        "no engine model for a " + bundle.architecture() + " bundle: " + bundle.directory());
  }
}
