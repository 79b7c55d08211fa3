package io.shoplens.processor.app.config;

import io.shoplens.processor.app.gateway.GatewayConfig;
import io.shoplens.processor.images.ImageResolverConfig;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.search.RetrievalConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Every setting of a ShopLens instance, defined once on Kafka's {@link ConfigDef} (names, types,
 * defaults, validators, docs); the README's configuration reference is generated from {@link
 * #configDef()} by {@link ConfigReference}.
 *
 * <p>Each group of settings lives in its own class, which states its keys, docs and validators:
 * {@link KafkaSettings}, {@link RegistrySettings}, {@link ModelSettings}, {@link ImageSettings},
 * {@link TopologySettings}, {@link RecommendationSettings}, {@link RetrievalSettings}, {@link
 * OperationsSettings} and {@link GatewaySettings}. A group that feeds an option record ({@link
 * EngineConfig}, {@link ImageResolverConfig}, {@link ShopLensTopologyConfig}, {@link
 * RecommendConfig}) takes its defaults from that record's {@code defaults()}, never from a literal
 * of its own, and maps the values onto it. This class assembles the groups, validates, and hands
 * out typed views and per-client Kafka settings.
 *
 * <p>ShopLens's own settings are named {@code shoplens.*}. Kafka's ({@code bootstrap.servers},
 * {@code application.id}) and the Schema Registry client's ({@code schema.registry.url}, {@code
 * basic.auth.*}, {@code bearer.auth.*}) keep the names those clients use. Every other key given
 * (for example {@code security.protocol}, {@code sasl.jaas.config}, {@code processing.guarantee})
 * is not ShopLens's and is handed unchanged to the Kafka clients and the serdes.
 *
 * <p>Build instances with {@link #validate(Map)}: it reports every problem at once, one line each,
 * instead of Kafka's first-error-wins {@link ConfigDef#parse}. Secrets are {@link Type#PASSWORD}
 * settings, which print as {@code [hidden]}; {@link #describe()} masks secrets among the
 * pass-through keys too.
 */
public final class ShopLensConfig extends AbstractConfig {

  // Names of pass-through settings whose values must never be printed: for keys that neither
  // ShopLens nor Kafka's clients define (the registry client's, a plugin's), since their type is
  // unknown. Typed keys are masked by type (PASSWORD), so that max.new.tokens prints.
  private static final Pattern SECRET_KEY =
      Pattern.compile("(?i).*(password|secret|jaas|token|user\\.info|credentials|key\\.pem).*");

  // Registry client keys whose names look secret but which only name where credentials come from.
  private static final Set<String> NOT_SECRET =
      Set.of("basic.auth.credentials.source", "bearer.auth.credentials.source");

  // The types of every Kafka client and Streams setting, for masking pass-through keys by type.
  private static final Map<String, Type> KAFKA_TYPES = kafkaTypes();

  private static final ConfigDef CONFIG = buildConfigDef();

  /** The groups in the order the reference lists them. */
  private static ConfigDef buildConfigDef() {
    ConfigDef def = new ConfigDef();
    for (SettingGroup group :
        List.of(
            KafkaSettings.SETTINGS,
            RegistrySettings.SETTINGS,
            ModelSettings.SETTINGS,
            ImageSettings.SETTINGS,
            TopologySettings.SETTINGS,
            RecommendationSettings.SETTINGS,
            RetrievalSettings.SETTINGS,
            OperationsSettings.SETTINGS,
            GatewaySettings.SETTINGS)) {
      group.addTo(def);
    }
    return def;
  }

  private ShopLensConfig(Map<String, ?> originals) {
    // doLog=false: Kafka's own dump would print pass-through secrets that are not typed PASSWORD.
    super(CONFIG, originals, false);
  }

  /** The definitions, for documentation and tests. */
  public static ConfigDef configDef() {
    return new ConfigDef(CONFIG);
  }

  /**
   * Parses and validates settings, collecting every problem.
   *
   * @param originals settings (values as strings or typed); keys that are not ShopLens's are kept
   *     for the Kafka clients
   * @return the validated configuration
   * @throws ConfigProblemsException listing every problem, one line each
   */
  public static ShopLensConfig validate(Map<String, ?> originals) {
    return validate(originals, true);
  }

  /**
   * Parses and validates the settings of {@code shoplens gateway}: as {@link #validate(Map)}, but
   * the gateway loads no model, so {@code shoplens.model.path} is neither required nor checked.
   *
   * @throws ConfigProblemsException listing every problem, one line each
   */
  public static ShopLensConfig validateForGateway(Map<String, ?> originals) {
    Map<String, Object> settings = new LinkedHashMap<>(originals);
    settings.putIfAbsent(ModelSettings.MODEL_PATH.name(), "(the gateway loads no model)");
    return validate(settings, false);
  }

  private static ShopLensConfig validate(Map<String, ?> originals, boolean needsModel) {
    List<String> problems = new ArrayList<>();
    Map<String, String> asStrings = new LinkedHashMap<>();
    originals.forEach((k, v) -> asStrings.put(k, v == null ? null : String.valueOf(v)));
    for (ConfigValue value : CONFIG.validate(asStrings)) {
      for (String error : value.errorMessages()) {
        problems.add(describeError(value.name(), error));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigProblemsException(problems);
    }
    ShopLensConfig config = new ShopLensConfig(originals);
    config.checkRelations(problems, needsModel);
    if (!problems.isEmpty()) {
      throw new ConfigProblemsException(problems);
    }
    return config;
  }

  private static String describeError(String name, String error) {
    // Kafka says "Missing required configuration "x" which has no default value."
    String env = EnvironmentConfig.environmentVariableFor(name);
    if (error.startsWith("Missing required configuration")) {
      return name + ": required, not set (set it in the config file or as " + env + ")";
    }
    return name + ": " + error;
  }

  private void checkRelations(List<String> problems, boolean needsModel) {
    KafkaSettings.check(this, problems);
    RegistrySettings.check(this, problems);
    if (needsModel) {
      ModelSettings.check(this, problems);
      RetrievalSettings.check(this, problems);
    }
    boolean promptsValid = TopologySettings.check(this, problems);
    boolean recommendationsValid = RecommendationSettings.check(this, problems);
    if (promptsValid && recommendationsValid) {
      // The records' own checks (cross-field bounds) speak for themselves; name the source.
      try {
        topologyConfig("validation", 1);
      } catch (IllegalArgumentException e) {
        problems.add("topology settings: " + e.getMessage());
      }
    }
    try {
      imageResolverConfig();
    } catch (IllegalArgumentException e) {
      problems.add(
          ImageSettings.IMAGE_ALLOWED_HOSTS.name() + " or other image settings: " + e.getMessage());
    }
    try {
      gatewayConfig();
    } catch (IllegalArgumentException e) {
      // The gateway reads the caption settings too (to check uploads' captionOptions): a problem
      // with them is already reported above, under their prefix, and is reported once.
      if (!problems.contains(e.getMessage())) {
        problems.add("gateway settings: " + e.getMessage());
      }
    }
  }

  // --- typed views -------------------------------------------------------------------------------

  /** The bundle directory. */
  public Path modelPath() {
    return ModelSettings.modelPath(this);
  }

  /** Registry URLs, trimmed, blanks dropped. */
  public List<String> schemaRegistryUrls() {
    return RegistrySettings.urls(this);
  }

  /** The Streams application id. */
  public String applicationId() {
    return getString(KafkaSettings.APPLICATION_ID.name());
  }

  /** HTTP port; -1 when disabled. */
  public int httpPort() {
    return getInt(OperationsSettings.HTTP_PORT.name());
  }

  /** The address the health and metrics endpoints listen on. */
  public String httpBindAddress() {
    return getString(OperationsSettings.HTTP_BIND_ADDRESS.name()).trim();
  }

  /** How long shutdown waits for Streams, then for the engine. */
  public Duration shutdownTimeout() {
    return getDuration(OperationsSettings.SHUTDOWN_TIMEOUT_MS.name());
  }

  /**
   * Attribute prompts in the configured order.
   *
   * @throws IllegalArgumentException for an entry that is not name=question, or a repeated name
   */
  public List<ShopLensTopologyConfig.AttributePrompt> attributePrompts() {
    return TopologySettings.attributePrompts(this);
  }

  /**
   * The topology's settings.
   *
   * @param modelId the loaded bundle's model id
   * @param imageTokens the loaded bundle's number of query tokens
   * @throws IllegalArgumentException if the settings do not fit together
   */
  public ShopLensTopologyConfig topologyConfig(String modelId, int imageTokens) {
    return TopologySettings.topologyConfig(this, modelId, imageTokens);
  }

  /**
   * The recommendation settings. The vocabulary file is read here, when set (even with
   * recommendations off, so that a broken file is reported before someone turns them on).
   *
   * @throws IllegalArgumentException for settings that do not fit together, or a malformed
   *     vocabulary file (naming its line)
   * @throws java.io.UncheckedIOException when the vocabulary file cannot be read
   */
  public RecommendConfig recommendConfig() {
    return RecommendationSettings.recommendConfig(this);
  }

  /** The retrieval bundle directory, or empty when no retrieval model is configured. */
  public Optional<Path> retrievalModelPath() {
    return RetrievalSettings.modelPath(this);
  }

  /** Retrieval graph calls run at once. */
  public int retrievalThreads() {
    return getInt(RetrievalSettings.RETRIEVAL_THREADS.name());
  }

  /** Images whose retrieval features are cached. */
  public int retrievalCacheSize() {
    return getInt(RetrievalSettings.RETRIEVAL_CACHE_SIZE.name());
  }

  /** The topology's retrieval settings (enabled exactly when a retrieval model path is set). */
  public RetrievalConfig retrievalConfig() {
    return RetrievalSettings.retrievalConfig(this);
  }

  /** Whether recommendations are on. */
  public boolean recommendationsEnabled() {
    return getBoolean(RecommendationSettings.RECOMMENDATIONS_ENABLED.name());
  }

  /**
   * The image resolver's settings. Inline images share the topology's limit; connect and read
   * time-outs keep the resolver's defaults but never exceed the total.
   */
  public ImageResolverConfig imageResolverConfig() {
    return ImageSettings.imageResolverConfig(this);
  }

  /**
   * The image resolver's settings alone, for tools that fetch images but load no model and run no
   * topology ({@code shoplens dataset build}): the same definitions and mapping as {@link
   * #imageResolverConfig()}, without the checks of the settings such tools do not use.
   *
   * @throws ConfigProblemsException naming the setting that is malformed
   */
  public static ImageResolverConfig imageResolverConfig(Map<String, ?> originals) {
    Map<String, Object> settings = new LinkedHashMap<>(originals);
    // Required by the definitions, unused by an image fetch.
    settings.putIfAbsent(KafkaSettings.BOOTSTRAP_SERVERS.name(), "unused:9092");
    settings.putIfAbsent(RegistrySettings.SCHEMA_REGISTRY_URL.name(), "mock://unused");
    settings.putIfAbsent(ModelSettings.MODEL_PATH.name(), "unused");
    try {
      return new ShopLensConfig(settings).imageResolverConfig();
    } catch (ConfigException | IllegalArgumentException e) {
      throw new ConfigProblemsException(List.of(e.getMessage()));
    }
  }

  /** The gateway's settings ({@code shoplens gateway}, and the demo's gateway). */
  public GatewayConfig gatewayConfig() {
    return GatewaySettings.gatewayConfig(this);
  }

  /** The engine's settings; the rest keep {@link EngineConfig#defaults()}. */
  public EngineConfig engineConfig() {
    return ModelSettings.engineConfig(this);
  }

  /**
   * A duration setting, declared by {@link SettingGroup#define(String, Duration,
   * ConfigDef.Validator)}.
   */
  Duration getDuration(String key) {
    return Duration.ofMillis(getLong(key));
  }

  /**
   * The enum constant a setting declared by {@link SettingGroup#define(String, Enum)} names, in any
   * case.
   */
  <E extends Enum<E>> E getEnum(String key, Class<E> type) {
    return Enum.valueOf(type, getString(key).trim().toUpperCase(Locale.ROOT));
  }

  /**
   * The entries of a list setting, trimmed, blank ones dropped: {@code "a, ,b,"} is {@code [a, b]}
   * for every list setting alike.
   */
  List<String> listEntries(String key) {
    return getList(key).stream().map(String::trim).filter(s -> !s.isEmpty()).toList();
  }

  // --- Kafka clients -----------------------------------------------------------------------------

  /**
   * Settings for the Kafka clients and the serdes: bootstrap servers, application id, the registry
   * settings, and every key given that is not a ShopLens setting. Values are as given (passwords as
   * plain strings: the clients need them).
   */
  public Map<String, Object> kafkaProperties() {
    Map<String, Object> out = new LinkedHashMap<>();
    Set<String> own = CONFIG.names();
    originals()
        .forEach(
            (k, v) -> {
              if (!own.contains(k)) {
                out.put(k, v);
              }
            });
    out.put(
        KafkaSettings.BOOTSTRAP_SERVERS.name(),
        String.join(",", getList(KafkaSettings.BOOTSTRAP_SERVERS.name())));
    out.put(KafkaSettings.APPLICATION_ID.name(), applicationId());
    RegistrySettings.putClientSettings(this, out);
    return out;
  }

  /** What a plain {@code KafkaProducer} needs of {@link #kafkaProperties()}. */
  public Map<String, Object> producerConfigs() {
    return KafkaClientConfigs.producer(kafkaProperties());
  }

  /** What a plain {@code KafkaConsumer} needs of {@link #kafkaProperties()}. */
  public Map<String, Object> consumerConfigs() {
    return KafkaClientConfigs.consumer(kafkaProperties());
  }

  /** What an {@code Admin} client needs of {@link #kafkaProperties()}. */
  public Map<String, Object> adminConfigs() {
    return KafkaClientConfigs.admin(kafkaProperties());
  }

  /**
   * The Kafka Streams settings: what the topology relies on ({@link
   * ShopLensTopology#streamsConfig()}: exactly-once, dead-lettering of unreadable records), then
   * {@link #kafkaProperties()} (Streams hands the serde settings to the serdes), then {@code
   * overrides} (the demo and tests: state directories, fast commits).
   */
  public Properties streamsConfigs(Map<String, ?> overrides) {
    Properties props = new Properties();
    props.putAll(ShopLensTopology.streamsConfig());
    props.putAll(kafkaProperties());
    props.putAll(overrides);
    return props;
  }

  /**
   * Every effective setting, sorted, with secrets masked, for the start-up log: ShopLens's
   * password-typed settings, pass-through keys whose names look secret (password, jaas, token,
   * user.info, ...), and credentials inside URLs.
   */
  public Map<String, String> describe() {
    Map<String, String> out = new TreeMap<>();
    for (String name : CONFIG.names()) {
      Object value = get(name);
      out.put(name, value == null ? "" : mask(name, value));
    }
    originals()
        .forEach(
            (k, v) -> {
              if (!CONFIG.names().contains(k)) {
                out.put(k, mask(k, v));
              }
            });
    return out;
  }

  /** A value as it may be printed. */
  static String mask(String key, Object value) {
    if (isSecret(key, value)) {
      return Password.HIDDEN;
    }
    String text =
        value instanceof List<?> list
            ? String.join(",", list.stream().map(String::valueOf).toList())
            : String.valueOf(value);
    // user:password@ inside a URL (a registry URL may carry its credentials).
    return text.replaceAll("//[^/@\\s,]*@", "//[hidden]@");
  }

  private static boolean isSecret(String key, Object value) {
    if (value instanceof Password) {
      return true;
    }
    if (CONFIG.names().contains(key)) {
      return false; // ShopLens's secrets are PASSWORD-typed, so their values are Passwords
    }
    Type kafkaType = KAFKA_TYPES.get(key);
    if (kafkaType != null) {
      return kafkaType == Type.PASSWORD;
    }
    return !NOT_SECRET.contains(key) && SECRET_KEY.matcher(key).matches();
  }

  private static Map<String, Type> kafkaTypes() {
    Map<String, Type> types = new HashMap<>();
    for (ConfigDef def :
        List.of(
            ProducerConfig.configDef(),
            ConsumerConfig.configDef(),
            AdminClientConfig.configDef(),
            StreamsConfig.configDef())) {
      def.configKeys().forEach((name, k) -> types.putIfAbsent(name, k.type));
    }
    return Map.copyOf(types);
  }

  /** One line per setting, secrets masked. */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("ShopLensConfig{");
    describe().forEach((k, v) -> out.append(k).append('=').append(v).append(", "));
    if (out.charAt(out.length() - 1) == ' ') {
      out.setLength(out.length() - 2);
    }
    return out.append('}').toString();
  }
}
