package io.shoplens.processor.inference.image;

import java.util.Objects;

/**
 * An image that cannot be turned into pixels: the bytes are empty, in a format we do not read, too
 * large to decode safely, or damaged. The {@link #reason()} lets callers branch (for example to a
 * dead-letter topic) without parsing the message.
 */
public final class ImageDecodeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why an image was refused. */
  public enum Reason {
    /** No bytes at all. */
    EMPTY,
    /** Bytes that no installed image reader recognises (not JPEG, PNG, GIF, BMP or WebP). */
    UNSUPPORTED_FORMAT,
    /** Header dimensions above the configured pixel limit: refused before decoding. */
    TOO_LARGE,
    /** A recognised format whose header or data is truncated or inconsistent. */
    CORRUPT
  }

  private final Reason reason;

  public ImageDecodeException(Reason reason, String message) {
    this(reason, message, null);
  }

  public ImageDecodeException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }
}
