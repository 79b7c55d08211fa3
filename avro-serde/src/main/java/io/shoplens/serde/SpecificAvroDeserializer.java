package io.shoplens.serde;

import io.shoplens.registry.SchemaRegistryClient;
import java.util.HashMap;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * A typed {@link KafkaAvroDeserializer} that always reads generated records ({@code
 * specific.avro.reader=true}): into {@code type} when given, else into the class named by the
 * writer schema.
 */
public class SpecificAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
  private final KafkaAvroDeserializer inner;
  private final Class<T> type;

  public SpecificAvroDeserializer() {
    this(null, null);
  }

  /** Reads into {@code type} by Avro resolution. */
  public SpecificAvroDeserializer(Class<T> type) {
    this(null, type);
  }

  public SpecificAvroDeserializer(SchemaRegistryClient registry) {
    this(registry, null);
  }

  /**
   * @param registry the registry, or null to create one from the configuration
   * @param type the class to read into, or null for the class the writer schema names
   */
  public SpecificAvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
    this.inner = new KafkaAvroDeserializer(registry, null, type);
    this.type = type;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    Map<String, Object> specific = new HashMap<>(configs);
    specific.put(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG, true);
    inner.configure(specific, isKey);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    return cast(inner.deserialize(topic, data));
  }

  @Override
  public T deserialize(String topic, Headers headers, byte[] data) {
    return cast(inner.deserialize(topic, headers, data));
  }

  @SuppressWarnings("unchecked")
  private T cast(Object value) {
    // Without a type the caller's T is unchecked, as with Confluent's serde.
    return type != null ? type.cast(value) : (T) value;
  }

  @Override
  public void close() {
    inner.close();
  }
}
