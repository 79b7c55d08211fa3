package io.shoplens.registry;

/**
 * No such schema: an unknown id, or a schema not registered under the subject (error code 40403).
 */
public class SchemaNotFoundException extends RestClientException {
  private static final long serialVersionUID = 1L;

  /** Confluent's error code for this case. */
  public static final int ERROR_CODE = 40403;

  public SchemaNotFoundException(String message, int status, int errorCode) {
    super(message, status, errorCode);
  }
}
