package io.shoplens.registry;

/** The schema breaks the subject's compatibility level (HTTP 409, error code 40901). */
public class IncompatibleSchemaException extends RestClientException {
  private static final long serialVersionUID = 1L;

  /** Confluent's error code for this case. */
  public static final int ERROR_CODE = 40901;

  public IncompatibleSchemaException(String message, int status, int errorCode) {
    super(message, status, errorCode);
  }
}
