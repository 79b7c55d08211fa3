package io.shoplens.processor.inference.bundle;

import java.util.Arrays;
import java.util.Optional;

/**
 * The floating-point type of a generation bundle's graph inputs, outputs and weights, as its
 * manifest's {@code dtype} names it. A float16 bundle keeps the Q-Former in float32 inside
 * vision.onnx (as Hugging Face keeps it for half-precision BLIP-2), but every tensor crossing a
 * graph boundary, the KV cache included, is float16.
 */
public enum Dtype {
  /** IEEE single precision, 4 bytes. */
  FLOAT32("float32", 4),
  /** IEEE half precision, 2 bytes. */
  FLOAT16("float16", 2);

  private final String manifestName;
  private final int bytes;

  Dtype(String manifestName, int bytes) {
    this.manifestName = manifestName;
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** The manifest's spelling, e.g. {@code float16}. */
  @Override
  public String toString() {
    return manifestName;
  }

  /** The dtype a manifest value names, or empty for one this engine does not know. */
  public static Optional<Dtype> fromManifest(String value) {
    return Arrays.stream(values()).filter(d -> d.manifestName.equals(value)).findFirst();
  }
}
