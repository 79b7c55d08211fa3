package io.shoplens.processor.topology.jobs;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.DeadLetterHeader;
import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.topology.Origin;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The one way ShopLens builds a {@link DeadLetter}: from the input record as it was read (topic,
 * partition, offset, timestamp, key, value and headers, byte for byte), the stage that gave up, the
 * error and the tries made.
 */
public final class DeadLetters {
  private DeadLetters() {}

  /** A dead letter naming {@code error}'s class and message. */
  public static DeadLetter of(
      Origin origin, ProcessingStage stage, Throwable error, int attempts, long now) {
    String message = error.getMessage() == null ? error.toString() : error.getMessage();
    return of(origin, stage, error.getClass().getName(), message, attempts, now);
  }

  /**
   * A dead letter for a refusal that has no exception.
   *
   * @param errorClass a short name for the reason, e.g. {@code NullKey}
   */
  public static DeadLetter of(
      Origin origin,
      ProcessingStage stage,
      String errorClass,
      String message,
      int attempts,
      long now) {
    List<DeadLetterHeader> headers = new ArrayList<>();
    for (Origin.RawHeader h : origin.headers()) {
      headers.add(
          new DeadLetterHeader(h.name(), h.value() == null ? null : ByteBuffer.wrap(h.value())));
    }
    return DeadLetter.newBuilder()
        .setSourceTopic(origin.topic())
        .setSourcePartition(origin.partition())
        .setSourceOffset(origin.offset())
        .setSourceTimestamp(
            origin.timestamp() < 0 ? null : Instant.ofEpochMilli(origin.timestamp()))
        .setKey(origin.key() == null ? null : ByteBuffer.wrap(origin.key()))
        .setValue(origin.value() == null ? null : ByteBuffer.wrap(origin.value()))
        .setHeaders(headers)
        .setErrorClass(errorClass)
        .setErrorMessage(message)
        .setStage(stage)
        .setAttempts(attempts)
        .setFailedAt(Instant.ofEpochMilli(now))
        .build();
  }
}
