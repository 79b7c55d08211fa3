package io.shoplens.registry;

/** The subject does not exist (error code 40401). */
public class SubjectNotFoundException extends RestClientException {
  private static final long serialVersionUID = 1L;

  /** Confluent's error code for this case. */
  public static final int ERROR_CODE = 40401;

  public SubjectNotFoundException(String message, int status, int errorCode) {
    super(message, status, errorCode);
  }
}
