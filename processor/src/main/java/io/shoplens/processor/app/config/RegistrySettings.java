package io.shoplens.processor.app.config;

import io.shoplens.registry.SchemaRegistryClientConfig;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.types.Password;

/**
 * The Schema Registry group: the registry client's own settings, under the names (and with the
 * docs) that client uses.
 */
public final class RegistrySettings {
  public static final String GROUP = "Schema Registry";

  public static final String SCHEMA_REGISTRY_URL_CONFIG =
      SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG;
  public static final String SCHEMA_REGISTRY_URL_DOC =
      SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_DOC;

  public static final String BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG =
      SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG;
  public static final String BASIC_AUTH_CREDENTIALS_SOURCE_DEFAULT =
      SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_DEFAULT;

  public static final String BASIC_AUTH_USER_INFO_CONFIG =
      SchemaRegistryClientConfig.USER_INFO_CONFIG;

  public static final String BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG =
      SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG;

  public static final String BEARER_AUTH_TOKEN_CONFIG =
      SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG;

  private RegistrySettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            SCHEMA_REGISTRY_URL_CONFIG,
            Type.LIST,
            ConfigDef.NO_DEFAULT_VALUE,
            null,
            Importance.HIGH,
            SCHEMA_REGISTRY_URL_DOC)
        .define(
            BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG,
            Type.STRING,
            BASIC_AUTH_CREDENTIALS_SOURCE_DEFAULT,
            ValidString.in("URL", "USER_INFO"),
            Importance.MEDIUM,
            SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_DOC)
        .define(
            BASIC_AUTH_USER_INFO_CONFIG,
            Type.PASSWORD,
            null,
            null,
            Importance.MEDIUM,
            SchemaRegistryClientConfig.USER_INFO_DOC)
        .define(
            BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG,
            Type.STRING,
            "",
            ValidString.in("", "STATIC_TOKEN"),
            Importance.MEDIUM,
            SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_DOC)
        .define(
            BEARER_AUTH_TOKEN_CONFIG,
            Type.PASSWORD,
            null,
            null,
            Importance.MEDIUM,
            SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_DOC);
  }

  static void check(ShopLensConfig c, List<String> problems) {
    if (urls(c).isEmpty()) {
      problems.add(
          SCHEMA_REGISTRY_URL_CONFIG
              + ": must name at least one registry URL (or mock://<scope> for an in-memory one)");
    }
    if ("USER_INFO".equals(c.getString(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG))
        && c.getPassword(BASIC_AUTH_USER_INFO_CONFIG) == null) {
      problems.add(
          BASIC_AUTH_USER_INFO_CONFIG
              + ": required when "
              + BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG
              + "=USER_INFO, not set");
    }
    if ("STATIC_TOKEN".equals(c.getString(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG))
        && c.getPassword(BEARER_AUTH_TOKEN_CONFIG) == null) {
      problems.add(
          BEARER_AUTH_TOKEN_CONFIG
              + ": required when "
              + BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG
              + "=STATIC_TOKEN, not set");
    }
  }

  /** Registry URLs, trimmed, blanks dropped. */
  static List<String> urls(ShopLensConfig c) {
    return c.listEntries(SCHEMA_REGISTRY_URL_CONFIG);
  }

  /** The registry client's settings, secrets as plain strings (the client needs them). */
  static void putClientSettings(ShopLensConfig c, Map<String, Object> out) {
    out.put(SCHEMA_REGISTRY_URL_CONFIG, String.join(",", urls(c)));
    out.put(
        BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG, c.getString(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG));
    putSecret(c, out, BASIC_AUTH_USER_INFO_CONFIG);
    String bearerSource = c.getString(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG);
    if (!bearerSource.isEmpty()) {
      out.put(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG, bearerSource);
    }
    putSecret(c, out, BEARER_AUTH_TOKEN_CONFIG);
  }

  private static void putSecret(ShopLensConfig c, Map<String, Object> out, String key) {
    Password p = c.getPassword(key);
    if (p != null) {
      out.put(key, p.value());
    }
  }
}
