package io.shoplens.processor.app.gateway;

/**
 * A refused request: the HTTP status and the {@code {code, message}} body the client gets. Thrown
 * before anything is published, so a refusal never reaches Kafka.
 */
final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  ApiError(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  int status() {
    return status;
  }

  String code() {
    return code;
  }

  /** 404 for an upload this instance's view does not know. */
  static ApiError unknownUpload(String uploadId) {
    return new ApiError(
        404, "unknown_upload", "no upload " + uploadId + " is known here (or it has expired)");
  }
}
