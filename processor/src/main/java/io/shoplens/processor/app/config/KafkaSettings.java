package io.shoplens.processor.app.config;

import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The Kafka group: where the cluster is and which application this is. Both keep the names the
 * Kafka clients use.
 */
public final class KafkaSettings {
  public static final String GROUP = "Kafka";

  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  public static final String BOOTSTRAP_SERVERS_DOC =
      "Kafka brokers to connect to first (host:port, comma-separated).";

  public static final String APPLICATION_ID_CONFIG = "application.id";
  public static final String APPLICATION_ID_DEFAULT = "shoplens";
  public static final String APPLICATION_ID_DOC =
      "Kafka Streams application id: the consumer group, and the prefix of internal topics and"
          + " state directories. Instances with the same id share the work.";

  private KafkaSettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            BOOTSTRAP_SERVERS_CONFIG,
            Type.LIST,
            ConfigDef.NO_DEFAULT_VALUE,
            null,
            Importance.HIGH,
            BOOTSTRAP_SERVERS_DOC)
        .define(
            APPLICATION_ID_CONFIG,
            Type.STRING,
            APPLICATION_ID_DEFAULT,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            APPLICATION_ID_DOC);
  }

  static void check(ShopLensConfig c, List<String> problems) {
    if (c.listEntries(BOOTSTRAP_SERVERS_CONFIG).isEmpty()) {
      problems.add(BOOTSTRAP_SERVERS_CONFIG + ": must name at least one broker (host:port)");
    }
    if (c.getString(APPLICATION_ID_CONFIG).isBlank()) {
      problems.add(APPLICATION_ID_CONFIG + ": must not be blank");
    }
  }
}
