package io.shoplens.processor.inference.image;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The vision-cache key of an image: the SHA-256 of its raw bytes, before any decoding. Two requests
 * carrying byte-identical images share query embeddings; re-encoded copies of the same picture do
 * not (decoding just to hash would cost what the cache saves).
 */
public final class ImageDigest {
  private ImageDigest() {}

  /** Lower-case hexadecimal SHA-256 of {@code bytes} (64 characters). */
  public static String sha256Hex(byte[] bytes) {
    try {
      // MessageDigest instances are not thread-safe; one per call is cheap next to the hashing.
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }
}
