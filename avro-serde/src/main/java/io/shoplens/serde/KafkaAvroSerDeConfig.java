package io.shoplens.serde;

import io.shoplens.registry.SchemaRegistryClientConfig;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Settings of the Avro serdes, with Confluent's names and defaults, plus every {@link
 * SchemaRegistryClientConfig} setting (URL, authentication, retries, cache size).
 *
 * <p>Values are not logged: the registry URL may carry credentials.
 */
public final class KafkaAvroSerDeConfig extends AbstractConfig {

  public static final String SCHEMA_REGISTRY_URL_CONFIG =
      SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG;

  public static final String AUTO_REGISTER_SCHEMAS_CONFIG = "auto.register.schemas";
  public static final boolean AUTO_REGISTER_SCHEMAS_DEFAULT = true;
  public static final String AUTO_REGISTER_SCHEMAS_DOC =
      "Register a record's schema under its subject when serializing. When false, the schema must"
          + " already be registered there (or use.latest.version picks the latest).";

  public static final String USE_LATEST_VERSION_CONFIG = "use.latest.version";
  public static final boolean USE_LATEST_VERSION_DEFAULT = false;
  public static final String USE_LATEST_VERSION_DOC =
      "Serialize with the subject's latest registered schema instead of registering the record's"
          + " own; the record is converted to it by Avro schema resolution.";

  public static final String LATEST_COMPATIBILITY_STRICT_CONFIG = "latest.compatibility.strict";
  public static final boolean LATEST_COMPATIBILITY_STRICT_DEFAULT = true;
  public static final String LATEST_COMPATIBILITY_STRICT_DOC =
      "With use.latest.version, refuse a record whose schema the latest schema cannot read"
          + " (the latest must be backward compatible with it).";

  public static final String LATEST_CACHE_TTL_SEC_CONFIG = "latest.cache.ttl.sec";
  public static final long LATEST_CACHE_TTL_SEC_DEFAULT = -1L;
  public static final String LATEST_CACHE_TTL_SEC_DOC =
      "How long the latest version of a subject is cached for use.latest.version; -1 caches it"
          + " for the life of the serializer.";

  public static final String KEY_SUBJECT_NAME_STRATEGY_CONFIG = "key.subject.name.strategy";
  public static final String VALUE_SUBJECT_NAME_STRATEGY_CONFIG = "value.subject.name.strategy";
  public static final String SUBJECT_NAME_STRATEGY_DEFAULT = "TopicNameStrategy";
  public static final String SUBJECT_NAME_STRATEGY_DOC =
      "How subjects are named: TopicNameStrategy (<topic>-key/-value), RecordNameStrategy"
          + " (record full name) or TopicRecordNameStrategy (<topic>-<record full name>); short"
          + " names, Confluent's class names (io.confluent.kafka.serializers.subject.*) or a class"
          + " implementing io.shoplens.serde.SubjectNameStrategy.";

  public static final String SPECIFIC_AVRO_READER_CONFIG = "specific.avro.reader";
  public static final boolean SPECIFIC_AVRO_READER_DEFAULT = false;
  public static final String SPECIFIC_AVRO_READER_DOC =
      "Deserialize records into their generated SpecificRecord classes (found by the writer"
          + " schema's full name), resolving the writer schema to the class's schema.";

  public static final String SPECIFIC_AVRO_KEY_TYPE_CONFIG = "specific.avro.key.type";
  public static final String SPECIFIC_AVRO_VALUE_TYPE_CONFIG = "specific.avro.value.type";
  public static final String SPECIFIC_AVRO_TYPE_DOC =
      "The SpecificRecord class to read into, whatever the writer schema's name; implies"
          + " specific.avro.reader.";

  public static final String AVRO_USE_LOGICAL_TYPE_CONVERTERS_CONFIG =
      "avro.use.logical.type.converters";
  public static final boolean AVRO_USE_LOGICAL_TYPE_CONVERTERS_DEFAULT = false;
  public static final String AVRO_USE_LOGICAL_TYPE_CONVERTERS_DOC =
      "Convert logical types (timestamps, dates, decimals, UUIDs) to Java types in generic"
          + " records. Specific records always use their class's conversions.";

  private static final ConfigDef CONFIG =
      SchemaRegistryClientConfig.addTo(new ConfigDef())
          .define(
              AUTO_REGISTER_SCHEMAS_CONFIG,
              Type.BOOLEAN,
              AUTO_REGISTER_SCHEMAS_DEFAULT,
              Importance.MEDIUM,
              AUTO_REGISTER_SCHEMAS_DOC)
          .define(
              USE_LATEST_VERSION_CONFIG,
              Type.BOOLEAN,
              USE_LATEST_VERSION_DEFAULT,
              Importance.MEDIUM,
              USE_LATEST_VERSION_DOC)
          .define(
              LATEST_COMPATIBILITY_STRICT_CONFIG,
              Type.BOOLEAN,
              LATEST_COMPATIBILITY_STRICT_DEFAULT,
              Importance.LOW,
              LATEST_COMPATIBILITY_STRICT_DOC)
          .define(
              LATEST_CACHE_TTL_SEC_CONFIG,
              Type.LONG,
              LATEST_CACHE_TTL_SEC_DEFAULT,
              Importance.LOW,
              LATEST_CACHE_TTL_SEC_DOC)
          .define(
              KEY_SUBJECT_NAME_STRATEGY_CONFIG,
              Type.STRING,
              SUBJECT_NAME_STRATEGY_DEFAULT,
              SubjectNameStrategies.VALIDATOR,
              Importance.MEDIUM,
              SUBJECT_NAME_STRATEGY_DOC)
          .define(
              VALUE_SUBJECT_NAME_STRATEGY_CONFIG,
              Type.STRING,
              SUBJECT_NAME_STRATEGY_DEFAULT,
              SubjectNameStrategies.VALIDATOR,
              Importance.MEDIUM,
              SUBJECT_NAME_STRATEGY_DOC)
          .define(
              SPECIFIC_AVRO_READER_CONFIG,
              Type.BOOLEAN,
              SPECIFIC_AVRO_READER_DEFAULT,
              Importance.MEDIUM,
              SPECIFIC_AVRO_READER_DOC)
          .define(
              SPECIFIC_AVRO_KEY_TYPE_CONFIG,
              Type.CLASS,
              null,
              Importance.LOW,
              SPECIFIC_AVRO_TYPE_DOC)
          .define(
              SPECIFIC_AVRO_VALUE_TYPE_CONFIG,
              Type.CLASS,
              null,
              Importance.LOW,
              SPECIFIC_AVRO_TYPE_DOC)
          .define(
              AVRO_USE_LOGICAL_TYPE_CONVERTERS_CONFIG,
              Type.BOOLEAN,
              AVRO_USE_LOGICAL_TYPE_CONVERTERS_DEFAULT,
              Importance.LOW,
              AVRO_USE_LOGICAL_TYPE_CONVERTERS_DOC);

  /**
   * @param originals settings; unknown keys (a producer's own, say) are ignored
   * @throws org.apache.kafka.common.config.ConfigException when a setting is invalid
   */
  public KafkaAvroSerDeConfig(Map<String, ?> originals) {
    super(CONFIG, normalize(originals), false);
  }

  /** The definitions, for documentation and tools. */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /** The strategy configured for keys or values. */
  public SubjectNameStrategy subjectNameStrategy(boolean isKey) {
    String key = isKey ? KEY_SUBJECT_NAME_STRATEGY_CONFIG : VALUE_SUBJECT_NAME_STRATEGY_CONFIG;
    return SubjectNameStrategies.forName(key, getString(key));
  }

  /** The configured reader class for keys or values, or null. */
  public Class<?> specificType(boolean isKey) {
    return getClass(isKey ? SPECIFIC_AVRO_KEY_TYPE_CONFIG : SPECIFIC_AVRO_VALUE_TYPE_CONFIG);
  }

  private static Map<String, Object> normalize(Map<String, ?> originals) {
    Map<String, Object> out = new HashMap<>(SchemaRegistryClientConfig.withUnprefixed(originals));
    // A strategy given as a Class (Confluent users write TopicNameStrategy.class) becomes its name.
    for (String key :
        new String[] {KEY_SUBJECT_NAME_STRATEGY_CONFIG, VALUE_SUBJECT_NAME_STRATEGY_CONFIG}) {
      if (out.get(key) instanceof Class<?> c) {
        out.put(key, c.getName());
      }
    }
    return out;
  }
}
