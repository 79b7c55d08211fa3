package io.shoplens.processor.app.config;

import io.shoplens.registry.SchemaRegistryClientConfig;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.types.Password;

/**
 * The Schema Registry group: the registry client's own settings, under the names (and with the
 * docs) that client uses.
 */
public final class RegistrySettings {
  static final SettingGroup SETTINGS = new SettingGroup("Schema Registry");

  public static final Setting SCHEMA_REGISTRY_URL =
      SETTINGS
          .required(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, Type.LIST, null)
          .importance(Importance.HIGH)
          .doc(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_DOC);

  public static final Setting BASIC_AUTH_CREDENTIALS_SOURCE =
      SETTINGS
          .define(
              SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG,
              SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_DEFAULT,
              ValidString.in("URL", "USER_INFO"))
          .importance(Importance.MEDIUM)
          .doc(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_DOC);

  public static final Setting BASIC_AUTH_USER_INFO =
      SETTINGS
          .password(SchemaRegistryClientConfig.USER_INFO_CONFIG)
          .importance(Importance.MEDIUM)
          .doc(SchemaRegistryClientConfig.USER_INFO_DOC);

  public static final Setting BEARER_AUTH_CREDENTIALS_SOURCE =
      SETTINGS
          .define(
              SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG,
              "",
              ValidString.in("", "STATIC_TOKEN"))
          .importance(Importance.MEDIUM)
          .doc(SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_DOC);

  public static final Setting BEARER_AUTH_TOKEN =
      SETTINGS
          .password(SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG)
          .importance(Importance.MEDIUM)
          .doc(SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_DOC);

  private RegistrySettings() {}

  static void check(ShopLensConfig c, List<String> problems) {
    if (urls(c).isEmpty()) {
      problems.add(
          SCHEMA_REGISTRY_URL.name()
              + ": must name at least one registry URL (or mock://<scope> for an in-memory one)");
    }
    requireSecret(c, problems, BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO", BASIC_AUTH_USER_INFO);
    requireSecret(c, problems, BEARER_AUTH_CREDENTIALS_SOURCE, "STATIC_TOKEN", BEARER_AUTH_TOKEN);
  }

  /** A credentials source that names a secret needs that secret set. */
  private static void requireSecret(
      ShopLensConfig c, List<String> problems, Setting source, String value, Setting secret) {
    if (value.equals(c.getString(source.name())) && c.getPassword(secret.name()) == null) {
      problems.add(secret.name() + ": required when " + source.name() + "=" + value + ", not set");
    }
  }

  /** Registry URLs, trimmed, blanks dropped. */
  static List<String> urls(ShopLensConfig c) {
    return c.listEntries(SCHEMA_REGISTRY_URL.name());
  }

  /** The registry client's settings, secrets as plain strings (the client needs them). */
  static void putClientSettings(ShopLensConfig c, Map<String, Object> out) {
    out.put(SCHEMA_REGISTRY_URL.name(), String.join(",", urls(c)));
    out.put(
        BASIC_AUTH_CREDENTIALS_SOURCE.name(), c.getString(BASIC_AUTH_CREDENTIALS_SOURCE.name()));
    putSecret(c, out, BASIC_AUTH_USER_INFO.name());
    String bearerSource = c.getString(BEARER_AUTH_CREDENTIALS_SOURCE.name());
    if (!bearerSource.isEmpty()) {
      out.put(BEARER_AUTH_CREDENTIALS_SOURCE.name(), bearerSource);
    }
    putSecret(c, out, BEARER_AUTH_TOKEN.name());
  }

  private static void putSecret(ShopLensConfig c, Map<String, Object> out, String key) {
    Password p = c.getPassword(key);
    if (p != null) {
      out.put(key, p.value());
    }
  }
}
