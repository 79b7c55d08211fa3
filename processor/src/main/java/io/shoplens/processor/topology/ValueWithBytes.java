package io.shoplens.processor.topology;

import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * An input value together with the exact bytes it was read from, so that a record rejected later
 * (after validation, inference or a wait) is dead-lettered with its original value, not a
 * re-serialization that could differ (another schema id, another writer schema).
 *
 * @param value the deserialized value
 * @param raw the bytes as read from Kafka
 */
record ValueWithBytes(SpecificRecord value, byte[] raw) {

  /**
   * A serde that reads with {@code values} and keeps the bytes. A value that cannot be read throws
   * from the deserializer, so Kafka Streams hands it to the configured deserialization handler
   * ({@link DeadLetterDeserializationHandler}); a null value (tombstone) reads as null.
   */
  static Serde<ValueWithBytes> serde(Serde<? extends SpecificRecord> values) {
    Deserializer<? extends SpecificRecord> reader = values.deserializer();
    Deserializer<ValueWithBytes> deserializer =
        new Deserializer<>() {
          @Override
          public ValueWithBytes deserialize(String topic, byte[] data) {
            return data == null ? null : new ValueWithBytes(reader.deserialize(topic, data), data);
          }

          @Override
          public ValueWithBytes deserialize(String topic, Headers headers, byte[] data) {
            return data == null
                ? null
                : new ValueWithBytes(reader.deserialize(topic, headers, data), data);
          }

          @Override
          public void configure(Map<String, ?> configs, boolean isKey) {}
        };
    // Writing gives back the original bytes: only used if a source is ever re-materialised.
    Serializer<ValueWithBytes> serializer = (topic, data) -> data == null ? null : data.raw();
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
