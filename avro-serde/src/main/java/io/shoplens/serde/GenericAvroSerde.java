package io.shoplens.serde;

import io.shoplens.registry.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka Streams serde for generic Avro records in Confluent's wire format, like Confluent's {@code
 * GenericAvroSerde}. Always reads generic records, whatever {@code specific.avro.reader} says.
 */
public class GenericAvroSerde implements Serde<GenericRecord> {
  private final KafkaAvroSerializer serializer;
  private final KafkaAvroDeserializer deserializer;

  public GenericAvroSerde() {
    this(null);
  }

  /**
   * @param registry the registry, or null to create one from the configuration
   */
  public GenericAvroSerde(SchemaRegistryClient registry) {
    this.serializer =
        registry == null ? new KafkaAvroSerializer() : new KafkaAvroSerializer(registry);
    this.deserializer = new KafkaAvroDeserializer(registry, null, null);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Map<String, Object> generic = new HashMap<>(configs);
    generic.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, false);
    generic.remove(KafkaAvroSerDeConfig.SPECIFIC_AVRO_KEY_TYPE_CONFIG);
    generic.remove(KafkaAvroSerDeConfig.SPECIFIC_AVRO_VALUE_TYPE_CONFIG);
    serializer.configure(generic, isKey);
    deserializer.configure(generic, isKey);
  }

  @Override
  public Serializer<GenericRecord> serializer() {
    return new Serializer<>() {
      @Override
      public byte[] serialize(String topic, GenericRecord data) {
        return serializer.serialize(topic, data);
      }

      @Override
      public byte[] serialize(String topic, Headers headers, GenericRecord data) {
        return serializer.serialize(topic, headers, data);
      }

      @Override
      public void close() {
        serializer.close();
      }
    };
  }

  @Override
  public Deserializer<GenericRecord> deserializer() {
    return new Deserializer<>() {
      @Override
      public GenericRecord deserialize(String topic, byte[] data) {
        return asRecord(deserializer.deserialize(topic, data));
      }

      @Override
      public GenericRecord deserialize(String topic, Headers headers, byte[] data) {
        return asRecord(deserializer.deserialize(topic, headers, data));
      }

      @Override
      public void close() {
        deserializer.close();
      }
    };
  }

  private static GenericRecord asRecord(Object value) {
    if (value == null || value instanceof GenericRecord) {
      return (GenericRecord) value;
    }
    throw new SerializationException(
        "Expected an Avro record, got a " + value.getClass().getName());
  }

  @Override
  public void close() {
    serializer.close();
    deserializer.close();
  }
}
