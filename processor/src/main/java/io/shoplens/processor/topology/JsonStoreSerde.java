package io.shoplens.processor.topology;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The serde of ShopLens' own state store values: JSON, because it is internal, readable in the
 * changelog topics, and tolerant of added fields (unknown ones are ignored on read).
 */
public final class JsonStoreSerde {
  private JsonStoreSerde() {}

  private static final ObjectMapper JSON =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** A JSON serde for {@code type}, a record of JSON-friendly components. */
  public static <T> Serde<T> of(Class<T> type) {
    Serializer<T> serializer =
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.writeValueAsBytes(data);
          } catch (IOException e) {
            throw new SerializationException("cannot write " + type.getSimpleName(), e);
          }
        };
    Deserializer<T> deserializer =
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.readValue(data, type);
          } catch (IOException e) {
            throw new SerializationException(
                "cannot read " + type.getSimpleName() + " from " + data.length + " bytes", e);
          }
        };
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
