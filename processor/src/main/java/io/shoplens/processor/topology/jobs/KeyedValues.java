package io.shoplens.processor.topology.jobs;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.topology.Origin;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Reads the value of an input record keyed by an id inside it (a catalog product by its {@code
 * productId}, a search by its {@code requestId}) before a job is made of it, and refuses it the one
 * way every such processor does: a value that does not deserialize at stage DESERIALIZE, one whose
 * id is not the record key at stage VALIDATE ({@code KeyMismatch}).
 */
public final class KeyedValues {
  private KeyedValues() {}

  /**
   * The record's value, or null after handing its dead letter to {@code refused}.
   *
   * @param record a record with a non-null key and value
   * @param idName the id's field name, for the message ({@code productId})
   * @param id the id inside the value, which must equal the key
   */
  public static <T> T read(
      Deserializer<T> deserializer,
      Record<String, byte[]> record,
      Origin origin,
      String idName,
      Function<T, String> id,
      long now,
      Consumer<DeadLetter> refused) {
    T value;
    try {
      value = deserializer.deserialize(origin.topic(), record.headers(), record.value());
    } catch (RuntimeException e) {
      refused.accept(DeadLetters.of(origin, ProcessingStage.DESERIALIZE, e, 1, now));
      return null;
    }
    if (!record.key().equals(id.apply(value))) {
      refused.accept(
          DeadLetters.of(
              origin,
              ProcessingStage.VALIDATE,
              "KeyMismatch",
              "record key " + record.key() + " differs from " + idName + " " + id.apply(value),
              1,
              now));
      return null;
    }
    return value;
  }

  /** The dead letter of a record without a key: {@code what} names the record in the message. */
  public static DeadLetter missingKey(Origin origin, String what, long now) {
    return DeadLetters.of(
        origin, ProcessingStage.VALIDATE, "NullKey", what + " has no key", 1, now);
  }
}
