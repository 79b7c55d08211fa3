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
  static final SettingGroup SETTINGS = new SettingGroup("Kafka");

  public static final Setting BOOTSTRAP_SERVERS =
      SETTINGS
          .required("bootstrap.servers", Type.LIST, null)
          .importance(Importance.HIGH)
          .doc("Kafka brokers to connect to first (host:port, comma-separated).");

  public static final Setting APPLICATION_ID =
      SETTINGS
          .define("application.id", "shoplens", new ConfigDef.NonEmptyString())
          .importance(Importance.HIGH)
          .doc(
              "Kafka Streams application id: the consumer group, and the prefix of internal topics and"
                  + " state directories. Instances with the same id share the work.");

  private KafkaSettings() {}

  static void check(ShopLensConfig c, List<String> problems) {
    if (c.listEntries(BOOTSTRAP_SERVERS.name()).isEmpty()) {
      problems.add(BOOTSTRAP_SERVERS.name() + ": must name at least one broker (host:port)");
    }
    if (c.getString(APPLICATION_ID.name()).isBlank()) {
      problems.add(APPLICATION_ID.name() + ": must not be blank");
    }
  }
}
