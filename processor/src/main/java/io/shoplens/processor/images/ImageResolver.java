package io.shoplens.processor.images;

import io.shoplens.events.ImageReference;
import io.shoplens.events.InlineImage;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * Turns an image (inline bytes, or a reference to fetch) into image bytes, or into a typed refusal.
 * It takes the image alone, the value of the Avro union that an upload's {@code image} field holds
 * and a catalog product's {@code image} is one branch of, so that every caller can pass what it
 * has.
 *
 * <p>The topology calls {@link #resolve} on the stream thread and chains the inference request on
 * the returned future, so implementations must not block the caller: network I/O (fetching a
 * reference) runs on the implementation's own threads, with its own connect and read time-outs.
 * Inline images may complete at once.
 *
 * <p>Failures complete the future exceptionally with an {@link ImageRefusedException}: its {@link
 * ImageRefusedException#reason() reason} says why, and {@link ImageRefusedException#retriable()}
 * whether trying again later might succeed (a time-out, a 5xx status). The topology retries
 * retriable refusals a bounded number of times and dead-letters the rest at stage {@code
 * RESOLVE_IMAGE}. Any other exception is treated as a retriable failure.
 *
 * <p>Implementations are thread-safe: one resolver serves every stream thread of an instance.
 */
public interface ImageResolver extends AutoCloseable {

  /**
   * Starts resolving an image.
   *
   * @param image an {@link InlineImage} or an {@link ImageReference} (typed {@code Object} because
   *     that is how Avro types the union); anything else, {@code null} included, is refused with
   *     {@link ImageRefusedException.Reason#INVALID_REFERENCE}
   * @return a future completed with the image bytes, or exceptionally with {@link
   *     ImageRefusedException}
   */
  CompletableFuture<ResolvedImage> resolve(Object image);

  /** Releases threads and connections; the default does nothing. */
  @Override
  default void close() {}

  /**
   * A resolver that accepts inline images up to {@code maxInlineBytes} and refuses every reference
   * with {@link ImageRefusedException.Reason#SCHEME_NOT_ALLOWED}: for deployments (and tests) that
   * do not fetch images.
   */
  static ImageResolver inlineOnly(long maxInlineBytes) {
    return image -> {
      if (image instanceof InlineImage inline) {
        ByteBuffer data = inline.getData().duplicate();
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        if (bytes.length == 0) {
          return CompletableFuture.failedFuture(
              new ImageRefusedException(
                  ImageRefusedException.Reason.EMPTY, "inline image has 0 bytes", false));
        }
        if (bytes.length > maxInlineBytes) {
          return CompletableFuture.failedFuture(
              new ImageRefusedException(
                  ImageRefusedException.Reason.TOO_LARGE,
                  "inline image has "
                      + bytes.length
                      + " bytes, more than the limit of "
                      + maxInlineBytes,
                  false));
        }
        return CompletableFuture.completedFuture(new ResolvedImage(bytes, inline.getContentType()));
      }
      if (!(image instanceof ImageReference ref)) {
        return CompletableFuture.failedFuture(HttpImageResolver.notAnImage(image));
      }
      return CompletableFuture.failedFuture(
          new ImageRefusedException(
              ImageRefusedException.Reason.SCHEME_NOT_ALLOWED,
              "image references are not fetched by this resolver: " + ref.getUri(),
              false));
    };
  }

  /**
   * The bytes of an image.
   *
   * @param bytes the encoded image file (not copied: callers must not modify it)
   * @param contentType its media type as declared inline or by the server
   */
  record ResolvedImage(byte[] bytes, String contentType) {
    public ResolvedImage {
      Objects.requireNonNull(bytes, "bytes");
      Objects.requireNonNull(contentType, "contentType");
    }
  }

  /** The image was not resolved; {@link #reason()} says why. */
  final class ImageRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Why an image was refused. */
    public enum Reason {
      /** No bytes (an empty inline image or an empty body). */
      EMPTY,
      /** More bytes than allowed (inline, declared, or counted while streaming). */
      TOO_LARGE,
      /** The reference is malformed: not an absolute URI, user info in it, a bad SHA-256. */
      INVALID_REFERENCE,
      /** The URI's scheme is not allowed (only https, and http when enabled). */
      SCHEME_NOT_ALLOWED,
      /** The host is not on the allow-list. */
      HOST_NOT_ALLOWED,
      /** The host name could not be resolved (DNS); retriable. */
      UNKNOWN_HOST,
      /** The host resolves to a loopback, private or link-local address that is not allowed. */
      ADDRESS_NOT_ALLOWED,
      /** The server redirected to another host. */
      REDIRECT_REFUSED,
      /** The server answered with a status other than 200. */
      HTTP_STATUS,
      /** The content type is not an image type, or not the declared one. */
      CONTENT_TYPE_MISMATCH,
      /** The fetched size differs from the reference's declared size. */
      SIZE_MISMATCH,
      /** The fetched bytes' SHA-256 differs from the reference's. */
      DIGEST_MISMATCH,
      /** Connecting or reading took longer than allowed. */
      TIMEOUT,
      /** Another I/O failure. */
      IO_ERROR
    }

    private final Reason reason;
    private final boolean retriable;

    /**
     * @param reason why the image was refused
     * @param message what was expected and what came instead (never credentials)
     * @param retriable whether trying again later might succeed
     */
    public ImageRefusedException(Reason reason, String message, boolean retriable) {
      this(reason, message, retriable, null);
    }

    public ImageRefusedException(
        Reason reason, String message, boolean retriable, Throwable cause) {
      super(message, cause);
      this.reason = Objects.requireNonNull(reason, "reason");
      this.retriable = retriable;
    }

    public Reason reason() {
      return reason;
    }

    public boolean retriable() {
      return retriable;
    }
  }
}
