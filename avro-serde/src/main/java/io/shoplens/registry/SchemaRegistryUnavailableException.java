package io.shoplens.registry;

import java.io.IOException;

/**
 * No registry URL could be reached (connection refused, timeouts, other I/O errors) after every
 * retry on every URL. Retriable: the same call may succeed once a registry is back.
 */
public class SchemaRegistryUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public SchemaRegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
