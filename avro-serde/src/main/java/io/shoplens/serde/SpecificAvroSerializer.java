package io.shoplens.serde;

import io.shoplens.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/** A typed {@link KafkaAvroSerializer} for generated records. */
public class SpecificAvroSerializer<T extends SpecificRecord> implements Serializer<T> {
  private final KafkaAvroSerializer inner;

  public SpecificAvroSerializer() {
    this.inner = new KafkaAvroSerializer();
  }

  /** Uses {@code registry}; {@link #configure} still applies the other settings. */
  public SpecificAvroSerializer(SchemaRegistryClient registry) {
    this.inner = new KafkaAvroSerializer(registry);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    inner.configure(configs, isKey);
  }

  @Override
  public byte[] serialize(String topic, T data) {
    return inner.serialize(topic, data);
  }

  @Override
  public byte[] serialize(String topic, Headers headers, T data) {
    return inner.serialize(topic, headers, data);
  }

  @Override
  public void close() {
    inner.close();
  }
}
