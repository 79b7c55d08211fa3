package io.shoplens.serde;

import io.shoplens.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka Streams serde for generated Avro records in Confluent's wire format, like Confluent's
 * {@code SpecificAvroSerde}. Configure it (with at least {@code schema.registry.url}, or hand it a
 * client) before use.
 */
public class SpecificAvroSerde<T extends SpecificRecord> implements Serde<T> {
  private final SpecificAvroSerializer<T> serializer;
  private final SpecificAvroDeserializer<T> deserializer;

  public SpecificAvroSerde() {
    this(null, null);
  }

  /** Reads into {@code type}, resolving any writer schema to {@code type}'s schema. */
  public SpecificAvroSerde(Class<T> type) {
    this(null, type);
  }

  public SpecificAvroSerde(SchemaRegistryClient registry) {
    this(registry, null);
  }

  /**
   * @param registry the registry, or null to create one from the configuration
   * @param type the class to read into, or null for the class the writer schema names
   */
  public SpecificAvroSerde(SchemaRegistryClient registry, Class<T> type) {
    this.serializer =
        registry == null ? new SpecificAvroSerializer<>() : new SpecificAvroSerializer<>(registry);
    this.deserializer = new SpecificAvroDeserializer<>(registry, type);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    serializer.configure(configs, isKey);
    deserializer.configure(configs, isKey);
  }

  @Override
  public Serializer<T> serializer() {
    return serializer;
  }

  @Override
  public Deserializer<T> deserializer() {
    return deserializer;
  }

  @Override
  public void close() {
    serializer.close();
    deserializer.close();
  }
}
