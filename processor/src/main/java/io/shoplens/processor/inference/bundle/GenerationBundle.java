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

  /** Hub id or local name the bundle was exported from. */
  String modelId();

  /** What outputs carry; changes with the weights. */
  String modelVersion();

  /** The manifest's {@code architecture}. */
  String architecture();

  /** Q, the image tokens in front of every prompt. */
  int numQueryTokens();
}
