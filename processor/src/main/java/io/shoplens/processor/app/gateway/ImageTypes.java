package io.shoplens.processor.app.gateway;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The media type of an image, read from its first bytes (magic numbers): a client's {@code
 * Content-Type} header or file name says what it claims, the bytes say what it is.
 */
final class ImageTypes {
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  private ImageTypes() {}

  /** The media type of a JPEG, PNG, GIF, WebP or BMP image; empty for anything else. */
  static Optional<String> sniff(byte[] b) {
    if (starts(b, new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff})) {
      return Optional.of("image/jpeg");
    }
    if (starts(b, PNG)) {
      return Optional.of("image/png");
    }
    if (starts(b, ascii("GIF87a")) || starts(b, ascii("GIF89a"))) {
      return Optional.of("image/gif");
    }
    if (b.length >= 12
        && starts(b, ascii("RIFF"))
        && Arrays.equals(b, 8, 12, ascii("WEBP"), 0, 4)) {
      return Optional.of("image/webp");
    }
    // "BM" alone is too weak (text can start so); a BMP header is at least 26 bytes.
    if (b.length >= 26 && starts(b, ascii("BM"))) {
      return Optional.of("image/bmp");
    }
    return Optional.empty();
  }

  private static boolean starts(byte[] b, byte[] prefix) {
    return b.length >= prefix.length
        && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
