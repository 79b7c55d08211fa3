package io.shoplens.processor.inference.bundle;

import java.nio.file.Path;

/**
 * What the application needs of a loaded generation bundle, whatever its architecture: {@link
 * ModelBundle} ({@code blip2-opt}) or {@code io.shoplens.processor.inference.t5.T5Bundle} ({@code
 * blip2-t5}). Each was validated and checksummed when it was loaded; {@code
 * io.shoplens.processor.inference.GenerationBundles#load} picks the kind from the manifest.
 */
public interface GenerationBundle {
  /** The bundle directory, absolute. */
  Path directory();

  /** The validated manifest. */
  GenerationManifest manifest();

  /** Hub id or local name the bundle was exported from. */
  default String modelId() {
    return manifest().modelId();
  }

  /** What outputs carry; changes with the weights. */
  default String modelVersion() {
    return manifest().modelVersion();
  }

  /** The manifest's {@code architecture}. */
  default String architecture() {
    return manifest().architecture();
  }

  /** Q, the image tokens in front of every prompt. */
  default int numQueryTokens() {
    return manifest().numQueryTokens();
  }

  /** Absolute path of a file of the bundle (one the manifest lists, or the manifest itself). */
  default Path file(String name) {
    return directory().resolve(name);
  }
}
