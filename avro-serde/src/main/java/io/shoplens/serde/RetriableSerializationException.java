package io.shoplens.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A record could not be (de)serialized because the Schema Registry could not be reached or was
 * failing (I/O errors, HTTP 408, 429, 5xx after the client's retries). The record itself may be
 * fine: the same call may succeed later, so callers should retry or stop rather than dead-letter
 * the record.
 */
public class RetriableSerializationException extends SerializationException {
  private static final long serialVersionUID = 1L;

  public RetriableSerializationException(String message, Throwable cause) {
    super(message, cause);
  }
}
