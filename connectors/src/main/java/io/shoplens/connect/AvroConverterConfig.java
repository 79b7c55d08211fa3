package io.shoplens.connect;

import io.shoplens.serde.KafkaAvroSerDeConfig;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * Settings of {@link AvroConverter}, with the names and defaults of Confluent's {@code
 * AvroConverterConfig}: every {@link KafkaAvroSerDeConfig} setting (registry URL and credentials,
 * {@code auto.register.schemas}, {@code use.latest.version}, subject name strategies) plus the
 * Connect ↔ Avro mapping settings below.
 *
 * <p>In a connector or worker configuration they are given under the converter's prefix, e.g.
 * {@code value.converter.schema.registry.url}.
 */
public final class AvroConverterConfig extends AbstractConfig {

  public static final String CONNECT_META_DATA_CONFIG = "connect.meta.data";
  public static final boolean CONNECT_META_DATA_DEFAULT = true;
  public static final String CONNECT_META_DATA_DOC =
      "Keep Connect's schema name, version, doc, parameters and defaults in connect.* properties"
          + " of the Avro schemas the converter registers, and Avro's record and field docs in"
          + " Connect parameters, so that a round trip restores them. Turn off to register plain"
          + " Avro schemas (for example to match a schema written by hand).";

  public static final String SCHEMAS_CACHE_SIZE_CONFIG = "schemas.cache.config";
  public static final int SCHEMAS_CACHE_SIZE_DEFAULT = 1000;
  public static final String SCHEMAS_CACHE_SIZE_DOC =
      "How many Avro <-> Connect schema conversions are cached each way.";

  public static final String ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG = "enhanced.avro.schema.support";
  public static final boolean ENHANCED_AVRO_SCHEMA_SUPPORT_DEFAULT = false;
  public static final String ENHANCED_AVRO_SCHEMA_SUPPORT_DOC =
      "Name the fields of a Connect union struct after the full names of record, enum and fixed"
          + " branches instead of their simple names.";

  private static final ConfigDef CONFIG =
      KafkaAvroSerDeConfig.configDef()
          .define(
              CONNECT_META_DATA_CONFIG,
              Type.BOOLEAN,
              CONNECT_META_DATA_DEFAULT,
              Importance.LOW,
              CONNECT_META_DATA_DOC)
          .define(
              SCHEMAS_CACHE_SIZE_CONFIG,
              Type.INT,
              SCHEMAS_CACHE_SIZE_DEFAULT,
              Range.atLeast(1),
              Importance.LOW,
              SCHEMAS_CACHE_SIZE_DOC)
          .define(
              ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG,
              Type.BOOLEAN,
              ENHANCED_AVRO_SCHEMA_SUPPORT_DEFAULT,
              Importance.LOW,
              ENHANCED_AVRO_SCHEMA_SUPPORT_DOC);

  /**
   * @throws org.apache.kafka.common.config.ConfigException when a setting is invalid
   */
  public AvroConverterConfig(Map<String, ?> originals) {
    super(CONFIG, originals, false);
  }

  /** The definitions, as {@link AvroConverter#config()} reports them. */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /** The mapping these settings ask for. */
  AvroData avroData() {
    return new AvroData(
        getInt(SCHEMAS_CACHE_SIZE_CONFIG),
        getBoolean(CONNECT_META_DATA_CONFIG),
        getBoolean(ENHANCED_AVRO_SCHEMA_SUPPORT_CONFIG));
  }
}
