package io.shoplens.processor.app.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Settings from environment variables, for containers (after streams-bootstrap's {@code
 * EnvironmentKafkaConfigParser}).
 *
 * <ul>
 *   <li>{@code SHOPLENS_FOO_BAR} sets ShopLens setting {@code shoplens.foo.bar}; where no such
 *       setting exists but {@code foo.bar} is a ShopLens-defined setting that keeps a client's name
 *       ({@code SHOPLENS_BOOTSTRAP_SERVERS}, {@code SHOPLENS_SCHEMA_REGISTRY_URL}, {@code
 *       SHOPLENS_BASIC_AUTH_USER_INFO}, ...), it sets that. The configuration reference lists the
 *       variable of every setting.
 *   <li>{@code KAFKA_FOO_BAR} sets {@code foo.bar} for the Kafka clients (any client setting, e.g.
 *       {@code KAFKA_SECURITY_PROTOCOL}, {@code KAFKA_SASL_JAAS_CONFIG}), except the variables of
 *       Kafka's own shell scripts ({@code KAFKA_OPTS}, {@code KAFKA_HEAP_OPTS}, ...).
 * </ul>
 *
 * A {@code SHOPLENS_} variable that names no setting is reported, not applied: Kubernetes defines
 * {@code SHOPLENS_PORT} and {@code SHOPLENS_SERVICE_HOST} for a service named shoplens, so failing
 * on them would break a correct deployment.
 */
public final class EnvironmentConfig {

  /** Prefix of ShopLens's variables. */
  public static final String SHOPLENS_PREFIX = "SHOPLENS_";

  /** Prefix of variables passed to the Kafka clients. */
  public static final String KAFKA_PREFIX = "KAFKA_";

  private static final String OWN_KEY_PREFIX = "shoplens.";

  // Read by Kafka's scripts and JVM tooling, never client settings.
  private static final Set<String> KAFKA_SCRIPT_VARIABLES =
      Set.of(
          "KAFKA_OPTS",
          "KAFKA_HEAP_OPTS",
          "KAFKA_JVM_PERFORMANCE_OPTS",
          "KAFKA_JMX_OPTS",
          "KAFKA_LOG4J_OPTS",
          "KAFKA_GC_LOG_OPTS",
          "KAFKA_DEBUG",
          "KAFKA_HOME");

  /**
   * What the environment contributes.
   *
   * @param settings dotted keys and values, ready to merge over a config file
   * @param ignored {@code SHOPLENS_} variables that name no setting (names only: values may be
   *     secret)
   */
  public record Result(Map<String, String> settings, List<String> ignored) {}

  private EnvironmentConfig() {}

  /**
   * Maps environment variables to settings.
   *
   * @param environment e.g. {@link System#getenv()}
   * @param defined the names ShopLens defines ({@code ShopLensConfig.configDef().names()})
   */
  public static Result parse(Map<String, String> environment, Set<String> defined) {
    Map<String, String> settings = new TreeMap<>();
    List<String> ignored = new ArrayList<>();
    new TreeMap<>(environment)
        .forEach(
            (name, value) -> {
              if (name.startsWith(SHOPLENS_PREFIX)) {
                String dotted = dotted(name.substring(SHOPLENS_PREFIX.length()));
                if (defined.contains(OWN_KEY_PREFIX + dotted)) {
                  settings.put(OWN_KEY_PREFIX + dotted, value);
                } else if (defined.contains(dotted)) {
                  settings.put(dotted, value);
                } else {
                  ignored.add(name);
                }
              } else if (name.startsWith(KAFKA_PREFIX)
                  && !KAFKA_SCRIPT_VARIABLES.contains(name)
                  && name.length() > KAFKA_PREFIX.length()) {
                settings.put(dotted(name.substring(KAFKA_PREFIX.length())), value);
              }
            });
    return new Result(settings, List.copyOf(ignored));
  }

  /**
   * The variable that sets a ShopLens-defined setting: {@code shoplens.http.port} ->
   * SHOPLENS_HTTP_PORT, {@code bootstrap.servers} -> SHOPLENS_BOOTSTRAP_SERVERS.
   */
  public static String environmentVariableFor(String key) {
    String bare = key.startsWith(OWN_KEY_PREFIX) ? key.substring(OWN_KEY_PREFIX.length()) : key;
    return SHOPLENS_PREFIX + bare.replace('.', '_').toUpperCase(Locale.ROOT);
  }

  private static String dotted(String suffix) {
    return suffix.toLowerCase(Locale.ROOT).replace('_', '.');
  }
}
