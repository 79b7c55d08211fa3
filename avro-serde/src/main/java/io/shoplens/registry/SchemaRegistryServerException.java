package io.shoplens.registry;

/** The registry failed on its side (HTTP 5xx or an error code 5xxxx); worth retrying later. */
public class SchemaRegistryServerException extends RestClientException {
  private static final long serialVersionUID = 1L;

  public SchemaRegistryServerException(String message, int status, int errorCode) {
    super(message, status, errorCode);
  }
}
