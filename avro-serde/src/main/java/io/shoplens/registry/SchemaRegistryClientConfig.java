package io.shoplens.registry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.types.Password;

/**
 * Settings of a Schema Registry client, with Confluent's names and defaults.
 *
 * <p>Each setting may also be given with the {@code schema.registry.} prefix (as Confluent's serdes
 * accept, e.g. {@code schema.registry.basic.auth.user.info}); the unprefixed name wins when both
 * are set. Secrets are {@link Type#PASSWORD} settings, which Kafka's config classes print as {@code
 * [hidden]}; this class never logs its values, because the URL may carry user info.
 */
public final class SchemaRegistryClientConfig extends AbstractConfig {

  /** The prefix under which Confluent's serdes also accept the client's settings. */
  public static final String CLIENT_PREFIX = "schema.registry.";

  public static final String SCHEMA_REGISTRY_URL_CONFIG = "schema.registry.url";
  public static final String SCHEMA_REGISTRY_URL_DOC =
      "Comma-separated registry URLs, tried in order (a URL that fails is left for the next one);"
          + " or one mock://<scope> URL for an in-memory registry shared by that scope in this"
          + " JVM.";

  public static final String BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG = "basic.auth.credentials.source";
  public static final String BASIC_AUTH_CREDENTIALS_SOURCE_DEFAULT = "URL";
  public static final String BASIC_AUTH_CREDENTIALS_SOURCE_DOC =
      "Where HTTP basic credentials come from: URL (user:password@ in schema.registry.url) or"
          + " USER_INFO (basic.auth.user.info).";

  public static final String USER_INFO_CONFIG = "basic.auth.user.info";
  public static final String USER_INFO_DOC =
      "user:password for HTTP basic authentication when basic.auth.credentials.source=USER_INFO.";

  public static final String BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG =
      "bearer.auth.credentials.source";
  public static final String BEARER_AUTH_CREDENTIALS_SOURCE_DOC =
      "Set to STATIC_TOKEN to send bearer.auth.token as a bearer token; empty for none.";

  public static final String BEARER_AUTH_TOKEN_CONFIG = "bearer.auth.token";
  public static final String BEARER_AUTH_TOKEN_DOC =
      "The token sent when bearer.auth.credentials.source=STATIC_TOKEN.";

  public static final String MAX_RETRIES_CONFIG = "max.retries";
  public static final int MAX_RETRIES_DEFAULT = 3;
  public static final String MAX_RETRIES_DOC =
      "Retries per URL for I/O errors and HTTP 408, 429, 500, 502, 503 and 504, before moving to"
          + " the next URL.";

  public static final String RETRIES_WAIT_MS_CONFIG = "retries.wait.ms";
  public static final long RETRIES_WAIT_MS_DEFAULT = 1000L;
  public static final String RETRIES_WAIT_MS_DOC =
      "Backoff before the first retry; it doubles on each further retry, with jitter.";

  public static final String RETRIES_MAX_WAIT_MS_CONFIG = "retries.max.wait.ms";
  public static final long RETRIES_MAX_WAIT_MS_DEFAULT = 20_000L;
  public static final String RETRIES_MAX_WAIT_MS_DOC = "The longest backoff between two retries.";

  public static final String HTTP_CONNECT_TIMEOUT_MS_CONFIG = "http.connect.timeout.ms";
  public static final int HTTP_CONNECT_TIMEOUT_MS_DEFAULT = 60_000;
  public static final String HTTP_CONNECT_TIMEOUT_MS_DOC = "Timeout to connect to a registry.";

  public static final String HTTP_READ_TIMEOUT_MS_CONFIG = "http.read.timeout.ms";
  public static final int HTTP_READ_TIMEOUT_MS_DEFAULT = 60_000;
  public static final String HTTP_READ_TIMEOUT_MS_DOC =
      "Timeout for a registry's response to one request.";

  public static final String MAX_SCHEMAS_PER_SUBJECT_CONFIG = "max.schemas.per.subject";
  public static final int MAX_SCHEMAS_PER_SUBJECT_DEFAULT = 1000;
  public static final String MAX_SCHEMAS_PER_SUBJECT_DOC =
      "Capacity of each client cache (id -> schema, subject and schema -> id); the least recently"
          + " used entry is evicted when full. Unlike Confluent's client, a full cache never fails.";

  private static final ConfigDef CONFIG = addTo(new ConfigDef());

  /**
   * @param originals settings; unknown keys are ignored
   */
  public SchemaRegistryClientConfig(Map<String, ?> originals) {
    super(CONFIG, withUnprefixed(originals), false);
  }

  /** Adds the client's settings to {@code def}, so that a serde config can validate them too. */
  public static ConfigDef addTo(ConfigDef def) {
    // No URL is valid here: a serde handed a client needs none. Creating a client checks it.
    return def.define(
            SCHEMA_REGISTRY_URL_CONFIG, Type.LIST, "", Importance.HIGH, SCHEMA_REGISTRY_URL_DOC)
        .define(
            BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG,
            Type.STRING,
            BASIC_AUTH_CREDENTIALS_SOURCE_DEFAULT,
            ValidString.in("URL", "USER_INFO"),
            Importance.MEDIUM,
            BASIC_AUTH_CREDENTIALS_SOURCE_DOC)
        .define(USER_INFO_CONFIG, Type.PASSWORD, null, Importance.MEDIUM, USER_INFO_DOC)
        .define(
            BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG,
            Type.STRING,
            "",
            ValidString.in("", "STATIC_TOKEN"),
            Importance.MEDIUM,
            BEARER_AUTH_CREDENTIALS_SOURCE_DOC)
        .define(
            BEARER_AUTH_TOKEN_CONFIG, Type.PASSWORD, null, Importance.MEDIUM, BEARER_AUTH_TOKEN_DOC)
        .define(
            MAX_RETRIES_CONFIG,
            Type.INT,
            MAX_RETRIES_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            MAX_RETRIES_DOC)
        .define(
            RETRIES_WAIT_MS_CONFIG,
            Type.LONG,
            RETRIES_WAIT_MS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            RETRIES_WAIT_MS_DOC)
        .define(
            RETRIES_MAX_WAIT_MS_CONFIG,
            Type.LONG,
            RETRIES_MAX_WAIT_MS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            RETRIES_MAX_WAIT_MS_DOC)
        .define(
            HTTP_CONNECT_TIMEOUT_MS_CONFIG,
            Type.INT,
            HTTP_CONNECT_TIMEOUT_MS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            HTTP_CONNECT_TIMEOUT_MS_DOC)
        .define(
            HTTP_READ_TIMEOUT_MS_CONFIG,
            Type.INT,
            HTTP_READ_TIMEOUT_MS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            HTTP_READ_TIMEOUT_MS_DOC)
        .define(
            MAX_SCHEMAS_PER_SUBJECT_CONFIG,
            Type.INT,
            MAX_SCHEMAS_PER_SUBJECT_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            MAX_SCHEMAS_PER_SUBJECT_DOC);
  }

  /** Copies {@code schema.registry.X} settings to {@code X} where {@code X} is not set itself. */
  public static Map<String, Object> withUnprefixed(Map<String, ?> originals) {
    Map<String, Object> out = new HashMap<>(originals);
    for (Map.Entry<String, ?> e : originals.entrySet()) {
      String key = e.getKey();
      if (key.startsWith(CLIENT_PREFIX) && !key.equals(SCHEMA_REGISTRY_URL_CONFIG)) {
        out.putIfAbsent(key.substring(CLIENT_PREFIX.length()), e.getValue());
      }
    }
    return out;
  }

  /** The configured URLs, trimmed, empty entries dropped. */
  public List<String> urls() {
    return getList(SCHEMA_REGISTRY_URL_CONFIG).stream()
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  /** The password-typed value of {@code key}, or null. */
  String secret(String key) {
    Password p = getPassword(key);
    return p == null ? null : p.value();
  }
}
