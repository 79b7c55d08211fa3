package io.shoplens.registry;

/**
 * The registry answered with an error: an HTTP status and Confluent's {@code error_code} from the
 * body {@code {"error_code": 40401, "message": "..."}}.
 *
 * <p>Subclasses name the cases callers branch on. The message never contains credentials: URLs in
 * it are stripped of their user info.
 */
public class RestClientException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final int errorCode;

  /**
   * @param message what the registry said, and where
   * @param status the HTTP status
   * @param errorCode Confluent's error code (the HTTP status when the body carried none)
   */
  public RestClientException(String message, int status, int errorCode) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }

  /** The HTTP status of the response. */
  public int status() {
    return status;
  }

  /** Confluent's error code, e.g. 40401; the HTTP status when the body carried none. */
  public int errorCode() {
    return errorCode;
  }

  /**
   * Whether the same request may succeed later: request timeout (408), too many requests (429) and
   * server errors (5xx), the statuses Confluent's client retries.
   */
  public boolean isRetriable() {
    return RestService.isRetriableStatus(status);
  }

  /**
   * Maps an error response to the most specific exception, by error code first and HTTP status
   * second.
   */
  static RestClientException of(String message, int status, int errorCode) {
    return switch (errorCode) {
      case SubjectNotFoundException.ERROR_CODE ->
          new SubjectNotFoundException(message, status, errorCode);
      case VersionNotFoundException.ERROR_CODE ->
          new VersionNotFoundException(message, status, errorCode);
      case SchemaNotFoundException.ERROR_CODE ->
          new SchemaNotFoundException(message, status, errorCode);
      case IncompatibleSchemaException.ERROR_CODE ->
          new IncompatibleSchemaException(message, status, errorCode);
      case InvalidSchemaException.ERROR_CODE ->
          new InvalidSchemaException(message, status, errorCode);
      default -> {
        if (status == 409) {
          yield new IncompatibleSchemaException(message, status, errorCode);
        }
        if (status >= 500 || errorCode / 10_000 == 5) {
          yield new SchemaRegistryServerException(message, status, errorCode);
        }
        yield new RestClientException(message, status, errorCode);
      }
    };
  }
}
