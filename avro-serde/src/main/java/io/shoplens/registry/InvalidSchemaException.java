package io.shoplens.registry;

/** The registry could not parse the schema (error code 42201). */
public class InvalidSchemaException extends RestClientException {
  private static final long serialVersionUID = 1L;

  /** Confluent's error code for this case. */
  public static final int ERROR_CODE = 42201;

  public InvalidSchemaException(String message, int status, int errorCode) {
    super(message, status, errorCode);
  }
}
