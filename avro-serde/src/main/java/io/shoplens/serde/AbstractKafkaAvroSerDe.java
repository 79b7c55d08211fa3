package io.shoplens.serde;

import io.shoplens.registry.RestClientException;
import io.shoplens.registry.SchemaRegistryClient;
import io.shoplens.registry.SchemaRegistryClientFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.avro.Conversions;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.kafka.common.errors.SerializationException;

/** What the Avro serializer and deserializer share: configuration, registry, error wording. */
abstract class AbstractKafkaAvroSerDe {
  protected SchemaRegistryClient registry;
  private boolean ownsRegistry;
  protected KafkaAvroSerDeConfig config;
  protected boolean isKey;
  protected SubjectNameStrategy subjectNameStrategy;
  protected GenericData genericData;

  AbstractKafkaAvroSerDe(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  void configureSerDe(Map<String, ?> configs, boolean isKey) {
    this.config = new KafkaAvroSerDeConfig(configs);
    this.isKey = isKey;
    this.subjectNameStrategy = config.subjectNameStrategy(isKey);
    if (registry == null) {
      registry = SchemaRegistryClientFactory.create(configs);
      ownsRegistry = true;
    }
    if (config.getBoolean(KafkaAvroSerDeConfig.AVRO_USE_LOGICAL_TYPE_CONVERTERS_CONFIG)) {
      GenericData data = new GenericData();
      data.addLogicalTypeConversion(new Conversions.DecimalConversion());
      data.addLogicalTypeConversion(new Conversions.UUIDConversion());
      data.addLogicalTypeConversion(new TimeConversions.DateConversion());
      data.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
      data.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
      data.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
      data.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
      data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMillisConversion());
      data.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
      this.genericData = data;
    } else {
      this.genericData = GenericData.get();
    }
  }

  void requireConfigured() {
    if (config == null) {
      throw new IllegalStateException(
          getClass().getSimpleName() + " used before configure(Map, boolean) was called");
    }
  }

  /** Where a failure happened: topic, key or value, subject if known, schema id if known. */
  String where(String topic, String subject, String schemaRef) {
    return "topic '"
        + topic
        + "' ("
        + (isKey ? "key" : "value")
        + ", subject "
        + (subject == null ? "unknown" : "'" + subject + "'")
        + ", schema "
        + (schemaRef == null ? "id unknown" : schemaRef)
        + ")";
  }

  /**
   * Wraps a registry failure: retriable when the registry was unreachable or failing, so that the
   * caller can tell a registry outage from a bad record.
   */
  static SerializationException registryFailure(String message, Exception e) {
    boolean retriable =
        e instanceof IOException
            || e instanceof UncheckedIOException
            || (e instanceof RestClientException rce && rce.isRetriable());
    String full = message + ": " + e.getMessage();
    return retriable
        ? new RetriableSerializationException(full, e)
        : new SerializationException(full, e);
  }

  void closeRegistry() {
    if (ownsRegistry && registry != null) {
      try {
        registry.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
