package io.shoplens.processor.app.dataset;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Assigns products to {@code train}, {@code val} and {@code test} by a hash of the seed and the
 * product id, never by position: adding products to a catalog does not move the others, and every
 * row of a product lands in the product's split (so test products are never seen in training).
 *
 * <p>The hash is {@code sha256(seed + ":" + productId)}, its first 8 hex digits as a fraction of
 * {@code 0xFFFFFFFF}; below the test fraction is test, below test + val is val, the rest train. The
 * Python trainer computes the same (docs/dataset.md).
 *
 * @param seed the seed
 * @param valFraction the share of products in {@code val}
 * @param testFraction the share of products in {@code test}
 */
public record Splits(long seed, double valFraction, double testFraction) {
  public static final String TRAIN = "train";
  public static final String VAL = "val";
  public static final String TEST = "test";

  /** The split names in report order. */
  public static final List<String> NAMES = List.of(TRAIN, VAL, TEST);

  public Splits {
    if (!(valFraction >= 0 && valFraction < 1 && testFraction >= 0 && testFraction < 1)
        || valFraction + testFraction >= 1) {
      throw new IllegalArgumentException(
          "val fraction "
              + valFraction
              + " and test fraction "
              + testFraction
              + ": expected each in [0, 1) and their sum below 1");
    }
  }

  /** The split of a product. */
  public String of(String productId) {
    double x = position(productId);
    return x < testFraction ? TEST : x < testFraction + valFraction ? VAL : TRAIN;
  }

  /** The product's place in [0, 1]. */
  double position(String productId) {
    byte[] digest;
    try {
      digest =
          MessageDigest.getInstance("SHA-256")
              .digest((seed + ":" + productId).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
    long first32 =
        ((digest[0] & 0xFFL) << 24)
            | ((digest[1] & 0xFFL) << 16)
            | ((digest[2] & 0xFFL) << 8)
            | (digest[3] & 0xFFL);
    return first32 / (double) 0xFFFFFFFFL;
  }
}
