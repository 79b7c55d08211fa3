package io.shoplens.registry;

/** The subject has no such version (error code 40402). */
public class VersionNotFoundException extends RestClientException {
  private static final long serialVersionUID = 1L;

  /** Confluent's error code for this case. */
  public static final int ERROR_CODE = 40402;

  public VersionNotFoundException(String message, int status, int errorCode) {
    super(message, status, errorCode);
  }
}
