package io.shoplens.processor.inference.bundle;

import java.util.Optional;

/**
 * The manifest fields every generation bundle has, whatever its architecture: what outputs are
 * labelled with and how many image tokens precede a prompt.
 */
public interface GenerationManifest {
  /** Hub id or local name the bundle was exported from. */
  String modelId();

  /** What outputs carry; changes with the weights. */
  String modelVersion();

  /** The manifest's {@code architecture}. */
  String architecture();

  /** Q, the image tokens in front of every prompt. */
  int numQueryTokens();

  /** Image preprocessing of the vision graph's input. */
  ModelManifest.Vision vision();

  /**
   * The vision tower the vision graph runs and the output that exposes it; empty for bundles
   * exported before {@code vision_tower} existed (they load, and share no tower pass).
   */
  Optional<VisionTower> visionTower();
}
