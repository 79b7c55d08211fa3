package io.shoplens.processor.app.config;

import io.shoplens.events.GarmentCategory;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.image.ImageResolverConfig;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.registry.SchemaRegistryClientConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.ValidString;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.common.config.types.Password;

/**
 * Every setting of a ShopLens instance, defined once on Kafka's {@link ConfigDef} (names, types,
 * defaults, validators, docs); the README's configuration reference is generated from {@link
 * #configDef()} by {@link ConfigReference}.
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

  /** Groups, in the order the reference lists them. */
  public static final String GROUP_KAFKA = "Kafka";

  public static final String GROUP_REGISTRY = "Schema Registry";
  public static final String GROUP_MODEL = "Model and inference";
  public static final String GROUP_IMAGES = "Images";
  public static final String GROUP_TOPOLOGY = "Questions, conversations and attributes";
  public static final String GROUP_RECOMMENDATIONS = "Recommendations";
  public static final String GROUP_OPERATIONS = "Operations";

  // --- Kafka -------------------------------------------------------------------------------------

  public static final String BOOTSTRAP_SERVERS_CONFIG = "bootstrap.servers";
  public static final String BOOTSTRAP_SERVERS_DOC =
      "Kafka brokers to connect to first (host:port, comma-separated).";

  public static final String APPLICATION_ID_CONFIG = "application.id";
  public static final String APPLICATION_ID_DEFAULT = "shoplens";
  public static final String APPLICATION_ID_DOC =
      "Kafka Streams application id: the consumer group, and the prefix of internal topics and"
          + " state directories. Instances with the same id share the work.";

  // --- Schema Registry ---------------------------------------------------------------------------

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

  // --- Model and inference -----------------------------------------------------------------------

  public static final String MODEL_PATH_CONFIG = "shoplens.model.path";
  public static final String MODEL_PATH_DOC =
      "Directory of the model bundle (manifest.json, vision/embed/decoder.onnx, tokenizer.json),"
          + " as written by model-export. Its checksums are verified at start.";

  public static final String EXECUTION_PROVIDER_CONFIG = "shoplens.inference.execution.provider";
  public static final String EXECUTION_PROVIDER_DEFAULT = "CPU";
  public static final String EXECUTION_PROVIDER_DOC =
      "Where the graphs run: CPU, or CUDA (needs the -Pcuda build or the CUDA image, an NVIDIA"
          + " GPU, CUDA 12 and cuDNN 9).";

  public static final String CUDA_DEVICE_ID_CONFIG = "shoplens.inference.cuda.device.id";
  public static final int CUDA_DEVICE_ID_DEFAULT = 0;
  public static final String CUDA_DEVICE_ID_DOC = "GPU ordinal used with the CUDA provider.";

  public static final String INTRA_OP_THREADS_CONFIG = "shoplens.inference.intra.op.threads";
  public static final int INTRA_OP_THREADS_DEFAULT = 0;
  public static final String INTRA_OP_THREADS_DOC =
      "ONNX Runtime threads inside one operator; 0 lets ONNX Runtime choose (one per core).";

  public static final String INTER_OP_THREADS_CONFIG = "shoplens.inference.inter.op.threads";
  public static final int INTER_OP_THREADS_DEFAULT = 0;
  public static final String INTER_OP_THREADS_DOC =
      "ONNX Runtime threads across independent operators; 0 lets ONNX Runtime choose.";

  public static final String BATCH_MAX_SIZE_CONFIG = "shoplens.inference.batch.max.size";
  public static final int BATCH_MAX_SIZE_DEFAULT = 8;
  public static final String BATCH_MAX_SIZE_DOC = "Most requests decoded together in one batch.";

  public static final String BATCH_MAX_WAIT_MS_CONFIG = "shoplens.inference.batch.max.wait.ms";
  public static final long BATCH_MAX_WAIT_MS_DEFAULT = 10L;
  public static final String BATCH_MAX_WAIT_MS_DOC =
      "Longest a request waits for others to fill its batch (latency traded for throughput).";

  public static final String QUEUE_CAPACITY_CONFIG = "shoplens.inference.queue.capacity";
  public static final int QUEUE_CAPACITY_DEFAULT = 256;
  public static final String QUEUE_CAPACITY_DOC =
      "Most requests waiting for the engine; a full queue pushes back on the stream threads.";

  public static final String VISION_CACHE_SIZE_CONFIG = "shoplens.inference.vision.cache.size";
  public static final int VISION_CACHE_SIZE_DEFAULT = 1024;
  public static final String VISION_CACHE_SIZE_DOC =
      "Images whose query embeddings are kept (by image hash and model version), so follow-up"
          + " questions skip the vision graph; 0 disables the cache.";

  // --- Images ------------------------------------------------------------------------------------

  public static final String IMAGE_INLINE_MAX_BYTES_CONFIG = "shoplens.image.inline.max.bytes";
  public static final long IMAGE_INLINE_MAX_BYTES_DEFAULT = 900_000L;
  public static final String IMAGE_INLINE_MAX_BYTES_DOC =
      "Largest image carried inside an upload event; larger ones are dead-lettered. Keep it under"
          + " the topic's max.message.bytes (shoplens topics create sets 2 MiB).";

  public static final String IMAGE_FETCH_MAX_BYTES_CONFIG = "shoplens.image.fetch.max.bytes";
  public static final long IMAGE_FETCH_MAX_BYTES_DEFAULT =
      ImageResolverConfig.DEFAULT_MAX_FETCH_BYTES;
  public static final String IMAGE_FETCH_MAX_BYTES_DOC =
      "Largest image fetched from a reference, counted while reading.";

  public static final String IMAGE_ALLOWED_HOSTS_CONFIG = "shoplens.image.allowed.hosts";
  public static final String IMAGE_ALLOWED_HOSTS_DOC =
      "Hosts image references may be fetched from: exact names or IPs, or *.example.com for"
          + " subdomains. Empty: every reference is refused (inline images only).";

  public static final String IMAGE_ALLOW_HTTP_CONFIG = "shoplens.image.allow.http";
  public static final boolean IMAGE_ALLOW_HTTP_DEFAULT = false;
  public static final String IMAGE_ALLOW_HTTP_DOC =
      "Also fetch plain http references (https always is).";

  public static final String IMAGE_ALLOW_PRIVATE_NETWORKS_CONFIG =
      "shoplens.image.allow.private.networks";
  public static final boolean IMAGE_ALLOW_PRIVATE_NETWORKS_DEFAULT = false;
  public static final String IMAGE_ALLOW_PRIVATE_NETWORKS_DOC =
      "Allow allow-listed hosts that resolve to loopback, private or link-local addresses (an"
          + " image store inside your network). Off, such fetches are refused (SSRF protection).";

  public static final String IMAGE_FETCH_TIMEOUT_MS_CONFIG = "shoplens.image.fetch.timeout.ms";
  public static final long IMAGE_FETCH_TIMEOUT_MS_DEFAULT = 15_000L;
  public static final String IMAGE_FETCH_TIMEOUT_MS_DOC =
      "Longest a whole fetch (redirects, headers and body) may take; connect (2 s) and each read"
          + " (5 s) are bounded as well.";

  public static final String IMAGE_FETCH_THREADS_CONFIG = "shoplens.image.fetch.threads";
  public static final int IMAGE_FETCH_THREADS_DEFAULT = 4;
  public static final String IMAGE_FETCH_THREADS_DOC =
      "Threads fetching image references (the stream threads never wait on the network).";

  // --- Questions, conversations and attributes ---------------------------------------------------

  public static final String CAPTION_MAX_NEW_TOKENS_CONFIG = "shoplens.caption.max.new.tokens";
  public static final int CAPTION_MAX_NEW_TOKENS_DEFAULT = 30;
  public static final String CAPTION_MAX_NEW_TOKENS_DOC = "Longest caption, in tokens (greedy).";

  public static final String ATTRIBUTE_PROMPTS_CONFIG = "shoplens.attribute.prompts";
  public static final String ATTRIBUTE_PROMPTS_DEFAULT =
      String.join(
          ",",
          ShopLensTopologyConfig.DEFAULT_ATTRIBUTE_PROMPTS.stream()
              .map(p -> p.name() + "=" + p.question())
              .toList());
  public static final String ATTRIBUTE_PROMPTS_DOC =
      "Questions asked of every upload to describe it, as name=question pairs (comma-separated;"
          + " a question cannot contain a comma). Empty: captions only.";

  public static final String ATTRIBUTE_MAX_NEW_TOKENS_CONFIG = "shoplens.attribute.max.new.tokens";
  public static final int ATTRIBUTE_MAX_NEW_TOKENS_DEFAULT = 10;
  public static final String ATTRIBUTE_MAX_NEW_TOKENS_DOC =
      "Longest attribute answer, in tokens (greedy).";

  public static final String ANSWER_MAX_NEW_TOKENS_CONFIG = "shoplens.answer.max.new.tokens";
  public static final int ANSWER_MAX_NEW_TOKENS_DEFAULT = 30;
  public static final String ANSWER_MAX_NEW_TOKENS_DOC =
      "Default longest answer, in tokens, for questions that do not set their own.";

  public static final String QUESTION_MAX_NEW_TOKENS_LIMIT_CONFIG =
      "shoplens.question.max.new.tokens.limit";
  public static final int QUESTION_MAX_NEW_TOKENS_LIMIT_DEFAULT = 128;
  public static final String QUESTION_MAX_NEW_TOKENS_LIMIT_DOC =
      "A question asking for more new tokens than this is dead-lettered.";

  public static final String QUESTION_MAX_LENGTH_CONFIG = "shoplens.question.max.length";
  public static final int QUESTION_MAX_LENGTH_DEFAULT = 500;
  public static final String QUESTION_MAX_LENGTH_DOC =
      "Longest question text accepted, in characters; longer ones are dead-lettered.";

  public static final String QUESTION_WAIT_MAX_MS_CONFIG = "shoplens.question.wait.max.ms";
  public static final long QUESTION_WAIT_MAX_MS_DEFAULT = 300_000L;
  public static final String QUESTION_WAIT_MAX_MS_DOC =
      "How long a question that arrived before its upload waits for it before it is"
          + " dead-lettered.";

  public static final String QUESTION_WAIT_MAX_COUNT_CONFIG = "shoplens.question.wait.max.count";
  public static final int QUESTION_WAIT_MAX_COUNT_DEFAULT = 10_000;
  public static final String QUESTION_WAIT_MAX_COUNT_DOC =
      "Most questions waiting for their uploads per stream task (input partition); further ones"
          + " are dead-lettered at once.";

  public static final String UPLOAD_RETENTION_MS_CONFIG = "shoplens.upload.retention.ms";
  public static final long UPLOAD_RETENTION_MS_DEFAULT = 7L * 24 * 3600 * 1000;
  public static final String UPLOAD_RETENTION_MS_DOC =
      "How long an upload is kept for questions about it.";

  public static final String CONVERSATION_MAX_TURNS_CONFIG = "shoplens.conversation.max.turns";
  public static final int CONVERSATION_MAX_TURNS_DEFAULT = 8;
  public static final String CONVERSATION_MAX_TURNS_DOC =
      "Earlier turns of a conversation put into the prompt of its next question (newest kept).";

  public static final String CONVERSATION_MAX_TOKENS_CONFIG = "shoplens.conversation.max.tokens";
  public static final int CONVERSATION_MAX_TOKENS_DEFAULT = 256;
  public static final String CONVERSATION_MAX_TOKENS_DOC =
      "Bound on the estimated tokens of those earlier turns (oldest dropped first).";

  public static final String CONVERSATION_TTL_MS_CONFIG = "shoplens.conversation.ttl.ms";
  public static final long CONVERSATION_TTL_MS_DEFAULT = 3_600_000L;
  public static final String CONVERSATION_TTL_MS_DOC =
      "A conversation idle for longer is forgotten; its next question starts afresh.";

  public static final String MAX_IN_FLIGHT_CONFIG = "shoplens.inflight.max";
  public static final int MAX_IN_FLIGHT_DEFAULT = 64;
  public static final String MAX_IN_FLIGHT_DOC =
      "Inference requests in flight per instance (kept in a changelogged store, so a crash loses"
          + " none); at the bound the stream threads wait. At most"
          + " shoplens.inference.queue.capacity.";

  public static final String MAX_ATTEMPTS_CONFIG = "shoplens.inference.max.attempts";
  public static final int MAX_ATTEMPTS_DEFAULT = 3;
  public static final String MAX_ATTEMPTS_DOC =
      "Tries per request for retriable failures before it is dead-lettered.";

  public static final String RETRY_BACKOFF_MS_CONFIG = "shoplens.inference.retry.backoff.ms";
  public static final long RETRY_BACKOFF_MS_DEFAULT = 1000L;
  public static final String RETRY_BACKOFF_MS_DOC = "Wait before a failed request is tried again.";

  public static final String STATE_STORE_TYPE_CONFIG = "shoplens.state.store.type";
  public static final String STATE_STORE_TYPE_DEFAULT = "PERSISTENT";
  public static final String STATE_STORE_TYPE_DOC =
      "PERSISTENT (RocksDB under state.dir: fast restarts) or IN_MEMORY (restored from the"
          + " changelog topics on every start).";

  // --- Recommendations ---------------------------------------------------------------------------

  public static final String RECOMMENDATIONS_ENABLED_CONFIG = "shoplens.recommendations.enabled";
  // Off by default: enabling needs the catalog topic (fed by a catalog connector) and the compacted
  // embeddings topic to exist before start, which `shoplens run` does not create.
  public static final boolean RECOMMENDATIONS_ENABLED_DEFAULT = false;
  public static final String RECOMMENDATIONS_ENABLED_DOC =
      "Recommend catalog products for every upload (RecommendationsIssued on "
          + Topics.RECOMMENDATIONS
          + "). Needs "
          + Topics.CATALOG_PRODUCTS
          + " and the embeddings topic to exist (shoplens topics create --recommendations makes"
          + " both, compacted); ShopLens refuses to start without them.";

  public static final String RECOMMENDATIONS_TOP_K_CONFIG = "shoplens.recommendations.top.k";
  public static final int RECOMMENDATIONS_TOP_K_DEFAULT = RecommendConfig.defaults().topK();
  public static final String RECOMMENDATIONS_TOP_K_DOC = "Most products per recommendation event.";

  public static final String RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG =
      "shoplens.recommendations.attribute.weight";
  public static final double RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DEFAULT =
      RecommendConfig.defaults().attributeWeight();
  public static final String RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DOC =
      "Weight of attribute agreement (share of the upload's normalised attributes the product"
          + " shares) in score = attribute.weight * agreement + embedding.weight * cosine.";

  public static final String RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG =
      "shoplens.recommendations.embedding.weight";
  public static final double RECOMMENDATIONS_EMBEDDING_WEIGHT_DEFAULT =
      RecommendConfig.defaults().embeddingWeight();
  public static final String RECOMMENDATIONS_EMBEDDING_WEIGHT_DOC =
      "Weight of the image embeddings' cosine similarity in the score; the two weights may not"
          + " both be 0.";

  public static final String RECOMMENDATIONS_MIN_SCORE_CONFIG =
      "shoplens.recommendations.min.score";
  public static final double RECOMMENDATIONS_MIN_SCORE_DEFAULT =
      RecommendConfig.defaults().minScore();
  public static final String RECOMMENDATIONS_MIN_SCORE_DOC =
      "Products scoring below are not recommended.";

  public static final String RECOMMENDATIONS_VOCABULARY_FILE_CONFIG =
      "shoplens.recommendations.vocabulary.file";
  public static final String RECOMMENDATIONS_VOCABULARY_FILE_DOC =
      "Attribute vocabulary file (synonyms, canonical values, garment categories; format in"
          + " README: Recommendations). Empty: the built-in clothing vocabulary.";

  private static final List<String> GARMENT_CATEGORIES =
      Arrays.stream(GarmentCategory.values()).map(Enum::name).toList();

  public static final String RECOMMENDATIONS_TRYON_CATEGORIES_CONFIG =
      "shoplens.recommendations.tryon.categories";
  public static final String RECOMMENDATIONS_TRYON_CATEGORIES_DEFAULT =
      String.join(
          ",",
          RecommendConfig.DEFAULT_TRY_ON_CATEGORIES.stream().map(Enum::name).sorted().toList());
  public static final String RECOMMENDATIONS_TRYON_CATEGORIES_DOC =
      "Garment categories the virtual try-on service renders (comma-separated, of "
          + GARMENT_CATEGORIES
          + "); an upload of one is tryOnEligible. Empty: none is.";

  public static final String RECOMMENDATIONS_EMBEDDINGS_TOPIC_CONFIG =
      "shoplens.recommendations.embeddings.topic";
  public static final String RECOMMENDATIONS_EMBEDDINGS_TOPIC_DEFAULT =
      RecommendConfig.DEFAULT_EMBEDDINGS_TOPIC;
  public static final String RECOMMENDATIONS_EMBEDDINGS_TOPIC_DOC =
      "Compacted topic of the embedded catalog, read in full by every instance. Create it before"
          + " starting; use one per model version (a replay with another model needs its own).";

  public static final String RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_CONFIG =
      "shoplens.recommendations.catalog.max.inflight";
  public static final int RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DEFAULT =
      RecommendConfig.defaults().catalogMaxInFlight();
  public static final String RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DOC =
      "Product images being embedded at once per catalog partition, so that loading a catalog"
          + " does not crowd uploads out of the engine's queue.";

  // --- Operations --------------------------------------------------------------------------------

  public static final String HTTP_PORT_CONFIG = "shoplens.http.port";
  public static final int HTTP_PORT_DEFAULT = 8080;
  public static final String HTTP_PORT_DOC =
      "Port of /health/live, /health/ready and /metrics; 0 picks a free port, -1 disables HTTP.";

  public static final String LOG_FORMAT_CONFIG = "shoplens.log.format";
  public static final String LOG_FORMAT_DEFAULT = "text";
  public static final String LOG_FORMAT_DOC =
      "text (one readable line per event) or json (one JSON object per line, for log"
          + " collectors).";

  public static final String SHUTDOWN_TIMEOUT_MS_CONFIG = "shoplens.shutdown.timeout.ms";
  public static final long SHUTDOWN_TIMEOUT_MS_DEFAULT = 30_000L;
  public static final String SHUTDOWN_TIMEOUT_MS_DOC =
      "How long a shutdown waits for Kafka Streams to close, and then for the engine's running"
          + " batch; an expired wait is logged.";

  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[a-z][a-z0-9_]*");

  // Names of pass-through settings whose values must never be printed.
  private static final Pattern SECRET_KEY =
      Pattern.compile("(?i).*(password|secret|jaas|token|user\\.info|credentials|key\\.pem).*");

  // Kafka's Range compares numbers but lets NaN and infinities through.
  private static final ConfigDef.Validator FINITE =
      new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
          if (value instanceof Double d && !Double.isFinite(d)) {
            throw new ConfigException(name, value, "must be a finite number");
          }
        }

        @Override
        public String toString() {
          return "a finite number";
        }
      };

  private static final ConfigDef.Validator FINITE_NON_NEGATIVE =
      new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
          if (value instanceof Double d && !(Double.isFinite(d) && d >= 0)) {
            throw new ConfigException(name, value, "must be a finite number >= 0");
          }
        }

        @Override
        public String toString() {
          return "[0,...]";
        }
      };

  private static final ConfigDef.Validator GARMENT_CATEGORY_LIST =
      new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
          if (value instanceof List<?> list) {
            for (Object item : list) {
              String category = String.valueOf(item).trim();
              if (!category.isEmpty()
                  && !GARMENT_CATEGORIES.contains(category.toUpperCase(Locale.ROOT))) {
                throw new ConfigException(
                    name, value, "unknown garment category '" + category + "'; expected " + this);
              }
            }
          }
        }

        @Override
        public String toString() {
          return "any of " + String.join(", ", GARMENT_CATEGORIES);
        }
      };

  private static final ConfigDef CONFIG = buildConfigDef();

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
    config.checkRelations(problems);
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

  private void checkRelations(List<String> problems) {
    if (getList(BOOTSTRAP_SERVERS_CONFIG).stream().allMatch(String::isBlank)) {
      problems.add(BOOTSTRAP_SERVERS_CONFIG + ": must name at least one broker (host:port)");
    }
    if (schemaRegistryUrls().isEmpty()) {
      problems.add(
          SCHEMA_REGISTRY_URL_CONFIG
              + ": must name at least one registry URL (or mock://<scope> for an in-memory one)");
    }
    if (getString(APPLICATION_ID_CONFIG).isBlank()) {
      problems.add(APPLICATION_ID_CONFIG + ": must not be blank");
    }
    Path model = modelPath();
    if (!Files.isDirectory(model)) {
      problems.add(
          MODEL_PATH_CONFIG
              + ": expected a model bundle directory, found "
              + (Files.exists(model) ? "a file" : "nothing")
              + " at "
              + model.toAbsolutePath());
    } else if (!Files.isRegularFile(model.resolve("manifest.json"))) {
      problems.add(
          MODEL_PATH_CONFIG
              + ": "
              + model.toAbsolutePath()
              + " has no manifest.json (export a bundle with model-export first)");
    }
    if ("USER_INFO".equals(getString(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG))
        && getPassword(BASIC_AUTH_USER_INFO_CONFIG) == null) {
      problems.add(
          BASIC_AUTH_USER_INFO_CONFIG
              + ": required when "
              + BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG
              + "=USER_INFO, not set");
    }
    if ("STATIC_TOKEN".equals(getString(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG))
        && getPassword(BEARER_AUTH_TOKEN_CONFIG) == null) {
      problems.add(
          BEARER_AUTH_TOKEN_CONFIG
              + ": required when "
              + BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG
              + "=STATIC_TOKEN, not set");
    }
    if (getInt(MAX_IN_FLIGHT_CONFIG) > getInt(QUEUE_CAPACITY_CONFIG)) {
      problems.add(
          MAX_IN_FLIGHT_CONFIG
              + ": "
              + getInt(MAX_IN_FLIGHT_CONFIG)
              + " is more than "
              + QUEUE_CAPACITY_CONFIG
              + " ("
              + getInt(QUEUE_CAPACITY_CONFIG)
              + "): submitting to a full engine queue would block the stream threads");
    }
    List<ShopLensTopologyConfig.AttributePrompt> prompts = null;
    try {
      prompts = attributePrompts();
    } catch (IllegalArgumentException e) {
      problems.add(ATTRIBUTE_PROMPTS_CONFIG + ": " + e.getMessage());
    }
    boolean recommendationsValid = checkRecommendations(problems);
    if (prompts != null && recommendationsValid) {
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
      problems.add(IMAGE_ALLOWED_HOSTS_CONFIG + " or other image settings: " + e.getMessage());
    }
  }

  private boolean checkRecommendations(List<String> problems) {
    int before = problems.size();
    if (getDouble(RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG) == 0
        && getDouble(RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG) == 0) {
      problems.add(
          RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG
              + " and "
              + RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG
              + ": must not both be 0 (every product would score 0)");
    }
    String vocabularyFile = getString(RECOMMENDATIONS_VOCABULARY_FILE_CONFIG).trim();
    if (!vocabularyFile.isEmpty()) {
      Path file = Path.of(vocabularyFile);
      if (!Files.isRegularFile(file)) {
        problems.add(
            RECOMMENDATIONS_VOCABULARY_FILE_CONFIG
                + ": expected a vocabulary file, found "
                + (Files.exists(file) ? "a directory" : "nothing")
                + " at "
                + file.toAbsolutePath());
      } else {
        try {
          AttributeVocabulary.load(file);
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
          problems.add(RECOMMENDATIONS_VOCABULARY_FILE_CONFIG + ": " + e.getMessage());
        }
      }
    }
    if (problems.size() == before) {
      try {
        recommendConfig();
      } catch (IllegalArgumentException e) {
        problems.add("recommendation settings: " + e.getMessage());
      }
    }
    return problems.size() == before;
  }

  // --- typed views -------------------------------------------------------------------------------

  /** The bundle directory. */
  public Path modelPath() {
    return Path.of(getString(MODEL_PATH_CONFIG));
  }

  /** Registry URLs, trimmed, blanks dropped. */
  public List<String> schemaRegistryUrls() {
    return getList(SCHEMA_REGISTRY_URL_CONFIG).stream()
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  /** The Streams application id. */
  public String applicationId() {
    return getString(APPLICATION_ID_CONFIG);
  }

  /** HTTP port; -1 when disabled. */
  public int httpPort() {
    return getInt(HTTP_PORT_CONFIG);
  }

  /** text or json. */
  public String logFormat() {
    return getString(LOG_FORMAT_CONFIG);
  }

  /** How long shutdown waits for Streams, then for the engine. */
  public Duration shutdownTimeout() {
    return Duration.ofMillis(getLong(SHUTDOWN_TIMEOUT_MS_CONFIG));
  }

  /**
   * Attribute prompts in the configured order.
   *
   * @throws IllegalArgumentException for an entry that is not name=question, or a repeated name
   */
  public List<ShopLensTopologyConfig.AttributePrompt> attributePrompts() {
    List<ShopLensTopologyConfig.AttributePrompt> prompts = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (String entry : getList(ATTRIBUTE_PROMPTS_CONFIG)) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq <= 0 || eq == entry.length() - 1) {
        throw new IllegalArgumentException("expected name=question, found '" + entry.trim() + "'");
      }
      String name = entry.substring(0, eq).trim();
      String question = entry.substring(eq + 1).trim();
      if (!ATTRIBUTE_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "attribute name '" + name + "' must be lower-case letters, digits and _");
      }
      if (!names.add(name)) {
        throw new IllegalArgumentException("attribute '" + name + "' is given twice");
      }
      prompts.add(new ShopLensTopologyConfig.AttributePrompt(name, question));
    }
    return prompts;
  }

  /**
   * The topology's settings.
   *
   * @param modelId the loaded bundle's model id
   * @param imageTokens the loaded bundle's number of query tokens
   * @throws IllegalArgumentException if the settings do not fit together
   */
  public ShopLensTopologyConfig topologyConfig(String modelId, int imageTokens) {
    return ShopLensTopologyConfig.builder(kafkaProperties())
        .modelId(modelId)
        .imageTokens(imageTokens)
        .captionOptions(
            DecodingOptions.greedy().withMaxNewTokens(getInt(CAPTION_MAX_NEW_TOKENS_CONFIG)))
        .attributePrompts(attributePrompts())
        .attributeOptions(
            DecodingOptions.greedy().withMaxNewTokens(getInt(ATTRIBUTE_MAX_NEW_TOKENS_CONFIG)))
        .answerOptions(
            DecodingOptions.greedy().withMaxNewTokens(getInt(ANSWER_MAX_NEW_TOKENS_CONFIG)))
        .maxQuestionChars(getInt(QUESTION_MAX_LENGTH_CONFIG))
        .maxNewTokensLimit(getInt(QUESTION_MAX_NEW_TOKENS_LIMIT_CONFIG))
        .maxInlineImageBytes(getLong(IMAGE_INLINE_MAX_BYTES_CONFIG))
        .uploadRetention(Duration.ofMillis(getLong(UPLOAD_RETENTION_MS_CONFIG)))
        .waitingQuestionTimeout(Duration.ofMillis(getLong(QUESTION_WAIT_MAX_MS_CONFIG)))
        .maxWaitingQuestions(getInt(QUESTION_WAIT_MAX_COUNT_CONFIG))
        .conversationMaxTurns(getInt(CONVERSATION_MAX_TURNS_CONFIG))
        .conversationMaxTokens(getInt(CONVERSATION_MAX_TOKENS_CONFIG))
        .conversationTtl(Duration.ofMillis(getLong(CONVERSATION_TTL_MS_CONFIG)))
        .maxInFlightRequests(getInt(MAX_IN_FLIGHT_CONFIG))
        .maxAttempts(getInt(MAX_ATTEMPTS_CONFIG))
        .retryBackoff(Duration.ofMillis(getLong(RETRY_BACKOFF_MS_CONFIG)))
        .storeType(
            ShopLensTopologyConfig.StoreType.valueOf(
                getString(STATE_STORE_TYPE_CONFIG).toUpperCase(Locale.ROOT)))
        .recommendations(recommendConfig())
        .build();
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
    String vocabularyFile = getString(RECOMMENDATIONS_VOCABULARY_FILE_CONFIG).trim();
    Set<GarmentCategory> tryOn = EnumSet.noneOf(GarmentCategory.class);
    for (String category : getList(RECOMMENDATIONS_TRYON_CATEGORIES_CONFIG)) {
      if (!category.isBlank()) {
        tryOn.add(GarmentCategory.valueOf(category.trim().toUpperCase(Locale.ROOT)));
      }
    }
    return RecommendConfig.defaults()
        .withEnabled(getBoolean(RECOMMENDATIONS_ENABLED_CONFIG))
        .withTopK(getInt(RECOMMENDATIONS_TOP_K_CONFIG))
        .withWeights(
            getDouble(RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG),
            getDouble(RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG))
        .withMinScore(getDouble(RECOMMENDATIONS_MIN_SCORE_CONFIG))
        .withVocabulary(
            vocabularyFile.isEmpty()
                ? AttributeVocabulary.defaults()
                : AttributeVocabulary.load(Path.of(vocabularyFile)))
        .withTryOnCategories(tryOn)
        .withEmbeddingsTopic(getString(RECOMMENDATIONS_EMBEDDINGS_TOPIC_CONFIG).trim())
        .withCatalogMaxInFlight(getInt(RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_CONFIG));
  }

  /** Whether recommendations are on. */
  public boolean recommendationsEnabled() {
    return getBoolean(RECOMMENDATIONS_ENABLED_CONFIG);
  }

  /**
   * The image resolver's settings. Inline images share the topology's limit; connect and read
   * time-outs keep the resolver's defaults but never exceed the total.
   */
  public ImageResolverConfig imageResolverConfig() {
    ImageResolverConfig defaults = ImageResolverConfig.defaults();
    Duration total = Duration.ofMillis(getLong(IMAGE_FETCH_TIMEOUT_MS_CONFIG));
    boolean privateAllowed = getBoolean(IMAGE_ALLOW_PRIVATE_NETWORKS_CONFIG);
    return defaults
        .withMaxInlineBytes(getLong(IMAGE_INLINE_MAX_BYTES_CONFIG))
        .withMaxFetchBytes(getLong(IMAGE_FETCH_MAX_BYTES_CONFIG))
        .withAllowedHosts(
            getList(IMAGE_ALLOWED_HOSTS_CONFIG).stream().filter(h -> !h.isBlank()).toList())
        .withHttpAllowed(getBoolean(IMAGE_ALLOW_HTTP_CONFIG))
        .withLoopbackAllowed(privateAllowed)
        .withPrivateNetworksAllowed(privateAllowed)
        .withTimeouts(
            min(defaults.connectTimeout(), total), min(defaults.readTimeout(), total), total)
        .withFetchThreads(getInt(IMAGE_FETCH_THREADS_CONFIG), defaults.maxQueuedFetches());
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
    settings.putIfAbsent(BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    settings.putIfAbsent(SCHEMA_REGISTRY_URL_CONFIG, "mock://unused");
    settings.putIfAbsent(MODEL_PATH_CONFIG, "unused");
    try {
      return new ShopLensConfig(settings).imageResolverConfig();
    } catch (ConfigException | IllegalArgumentException e) {
      throw new ConfigProblemsException(List.of(e.getMessage()));
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /** The engine's settings; the rest keep {@link EngineConfig#defaults()}. */
  public EngineConfig engineConfig() {
    EngineConfig defaults = EngineConfig.defaults();
    return defaults
        .withExecutionProvider(
            EngineConfig.ExecutionProvider.valueOf(
                getString(EXECUTION_PROVIDER_CONFIG).toUpperCase(Locale.ROOT)),
            getInt(CUDA_DEVICE_ID_CONFIG))
        .withThreads(getInt(INTRA_OP_THREADS_CONFIG), getInt(INTER_OP_THREADS_CONFIG))
        .withBatching(
            getInt(BATCH_MAX_SIZE_CONFIG), Duration.ofMillis(getLong(BATCH_MAX_WAIT_MS_CONFIG)))
        .withQueue(getInt(QUEUE_CAPACITY_CONFIG), defaults.backpressure(), defaults.offerTimeout())
        .withVisionCacheEntries(getInt(VISION_CACHE_SIZE_CONFIG))
        .withCloseTimeout(shutdownTimeout());
  }

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
    out.put(BOOTSTRAP_SERVERS_CONFIG, String.join(",", getList(BOOTSTRAP_SERVERS_CONFIG)));
    out.put(APPLICATION_ID_CONFIG, applicationId());
    out.put(SCHEMA_REGISTRY_URL_CONFIG, String.join(",", schemaRegistryUrls()));
    out.put(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG, getString(BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG));
    putSecret(out, BASIC_AUTH_USER_INFO_CONFIG);
    String bearerSource = getString(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG);
    if (!bearerSource.isEmpty()) {
      out.put(BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG, bearerSource);
    }
    putSecret(out, BEARER_AUTH_TOKEN_CONFIG);
    return out;
  }

  private void putSecret(Map<String, Object> out, String key) {
    Password p = getPassword(key);
    if (p != null) {
      out.put(key, p.value());
    }
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
    if (value instanceof Password || SECRET_KEY.matcher(key).matches()) {
      return Password.HIDDEN;
    }
    String text =
        value instanceof List<?> list
            ? String.join(",", list.stream().map(String::valueOf).toList())
            : String.valueOf(value);
    // user:password@ inside a URL (a registry URL may carry its credentials).
    return text.replaceAll("//[^/@\\s,]*@", "//[hidden]@");
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

  // --- definitions -------------------------------------------------------------------------------

  private static ConfigDef buildConfigDef() {
    Definer d = new Definer();
    d.group(GROUP_KAFKA)
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
    d.group(GROUP_REGISTRY)
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
    d.group(GROUP_MODEL)
        .define(
            MODEL_PATH_CONFIG,
            Type.STRING,
            ConfigDef.NO_DEFAULT_VALUE,
            new ConfigDef.NonEmptyString(),
            Importance.HIGH,
            MODEL_PATH_DOC)
        .define(
            EXECUTION_PROVIDER_CONFIG,
            Type.STRING,
            EXECUTION_PROVIDER_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in("CPU", "CUDA"),
            Importance.HIGH,
            EXECUTION_PROVIDER_DOC)
        .define(
            CUDA_DEVICE_ID_CONFIG,
            Type.INT,
            CUDA_DEVICE_ID_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            CUDA_DEVICE_ID_DOC)
        .define(
            INTRA_OP_THREADS_CONFIG,
            Type.INT,
            INTRA_OP_THREADS_DEFAULT,
            Range.atLeast(0),
            Importance.MEDIUM,
            INTRA_OP_THREADS_DOC)
        .define(
            INTER_OP_THREADS_CONFIG,
            Type.INT,
            INTER_OP_THREADS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            INTER_OP_THREADS_DOC)
        .define(
            BATCH_MAX_SIZE_CONFIG,
            Type.INT,
            BATCH_MAX_SIZE_DEFAULT,
            Range.between(1, 1024),
            Importance.MEDIUM,
            BATCH_MAX_SIZE_DOC)
        .define(
            BATCH_MAX_WAIT_MS_CONFIG,
            Type.LONG,
            BATCH_MAX_WAIT_MS_DEFAULT,
            Range.between(0, 60_000),
            Importance.MEDIUM,
            BATCH_MAX_WAIT_MS_DOC)
        .define(
            QUEUE_CAPACITY_CONFIG,
            Type.INT,
            QUEUE_CAPACITY_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            QUEUE_CAPACITY_DOC)
        .define(
            VISION_CACHE_SIZE_CONFIG,
            Type.INT,
            VISION_CACHE_SIZE_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            VISION_CACHE_SIZE_DOC);
    d.group(GROUP_IMAGES)
        .define(
            IMAGE_INLINE_MAX_BYTES_CONFIG,
            Type.LONG,
            IMAGE_INLINE_MAX_BYTES_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            IMAGE_INLINE_MAX_BYTES_DOC)
        .define(
            IMAGE_FETCH_MAX_BYTES_CONFIG,
            Type.LONG,
            IMAGE_FETCH_MAX_BYTES_DEFAULT,
            Range.between(1, Integer.MAX_VALUE - 8),
            Importance.MEDIUM,
            IMAGE_FETCH_MAX_BYTES_DOC)
        .define(
            IMAGE_ALLOWED_HOSTS_CONFIG,
            Type.LIST,
            "",
            null,
            Importance.MEDIUM,
            IMAGE_ALLOWED_HOSTS_DOC)
        .define(
            IMAGE_ALLOW_HTTP_CONFIG,
            Type.BOOLEAN,
            IMAGE_ALLOW_HTTP_DEFAULT,
            null,
            Importance.LOW,
            IMAGE_ALLOW_HTTP_DOC)
        .define(
            IMAGE_ALLOW_PRIVATE_NETWORKS_CONFIG,
            Type.BOOLEAN,
            IMAGE_ALLOW_PRIVATE_NETWORKS_DEFAULT,
            null,
            Importance.LOW,
            IMAGE_ALLOW_PRIVATE_NETWORKS_DOC)
        .define(
            IMAGE_FETCH_TIMEOUT_MS_CONFIG,
            Type.LONG,
            IMAGE_FETCH_TIMEOUT_MS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            IMAGE_FETCH_TIMEOUT_MS_DOC)
        .define(
            IMAGE_FETCH_THREADS_CONFIG,
            Type.INT,
            IMAGE_FETCH_THREADS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            IMAGE_FETCH_THREADS_DOC);
    d.group(GROUP_TOPOLOGY)
        .define(
            CAPTION_MAX_NEW_TOKENS_CONFIG,
            Type.INT,
            CAPTION_MAX_NEW_TOKENS_DEFAULT,
            Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT),
            Importance.LOW,
            CAPTION_MAX_NEW_TOKENS_DOC)
        .define(
            ATTRIBUTE_PROMPTS_CONFIG,
            Type.LIST,
            ATTRIBUTE_PROMPTS_DEFAULT,
            null,
            Importance.MEDIUM,
            ATTRIBUTE_PROMPTS_DOC)
        .define(
            ATTRIBUTE_MAX_NEW_TOKENS_CONFIG,
            Type.INT,
            ATTRIBUTE_MAX_NEW_TOKENS_DEFAULT,
            Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT),
            Importance.LOW,
            ATTRIBUTE_MAX_NEW_TOKENS_DOC)
        .define(
            ANSWER_MAX_NEW_TOKENS_CONFIG,
            Type.INT,
            ANSWER_MAX_NEW_TOKENS_DEFAULT,
            Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT),
            Importance.LOW,
            ANSWER_MAX_NEW_TOKENS_DOC)
        .define(
            QUESTION_MAX_NEW_TOKENS_LIMIT_CONFIG,
            Type.INT,
            QUESTION_MAX_NEW_TOKENS_LIMIT_DEFAULT,
            Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT),
            Importance.LOW,
            QUESTION_MAX_NEW_TOKENS_LIMIT_DOC)
        .define(
            QUESTION_MAX_LENGTH_CONFIG,
            Type.INT,
            QUESTION_MAX_LENGTH_DEFAULT,
            Range.between(1, 100_000),
            Importance.LOW,
            QUESTION_MAX_LENGTH_DOC)
        .define(
            QUESTION_WAIT_MAX_MS_CONFIG,
            Type.LONG,
            QUESTION_WAIT_MAX_MS_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            QUESTION_WAIT_MAX_MS_DOC)
        .define(
            QUESTION_WAIT_MAX_COUNT_CONFIG,
            Type.INT,
            QUESTION_WAIT_MAX_COUNT_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            QUESTION_WAIT_MAX_COUNT_DOC)
        .define(
            UPLOAD_RETENTION_MS_CONFIG,
            Type.LONG,
            UPLOAD_RETENTION_MS_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            UPLOAD_RETENTION_MS_DOC)
        .define(
            CONVERSATION_MAX_TURNS_CONFIG,
            Type.INT,
            CONVERSATION_MAX_TURNS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            CONVERSATION_MAX_TURNS_DOC)
        .define(
            CONVERSATION_MAX_TOKENS_CONFIG,
            Type.INT,
            CONVERSATION_MAX_TOKENS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            CONVERSATION_MAX_TOKENS_DOC)
        .define(
            CONVERSATION_TTL_MS_CONFIG,
            Type.LONG,
            CONVERSATION_TTL_MS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            CONVERSATION_TTL_MS_DOC)
        .define(
            MAX_IN_FLIGHT_CONFIG,
            Type.INT,
            MAX_IN_FLIGHT_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            MAX_IN_FLIGHT_DOC)
        .define(
            MAX_ATTEMPTS_CONFIG,
            Type.INT,
            MAX_ATTEMPTS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            MAX_ATTEMPTS_DOC)
        .define(
            RETRY_BACKOFF_MS_CONFIG,
            Type.LONG,
            RETRY_BACKOFF_MS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            RETRY_BACKOFF_MS_DOC)
        .define(
            STATE_STORE_TYPE_CONFIG,
            Type.STRING,
            STATE_STORE_TYPE_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in("PERSISTENT", "IN_MEMORY"),
            Importance.LOW,
            STATE_STORE_TYPE_DOC);
    d.group(GROUP_RECOMMENDATIONS)
        .define(
            RECOMMENDATIONS_ENABLED_CONFIG,
            Type.BOOLEAN,
            RECOMMENDATIONS_ENABLED_DEFAULT,
            null,
            Importance.MEDIUM,
            RECOMMENDATIONS_ENABLED_DOC)
        .define(
            RECOMMENDATIONS_TOP_K_CONFIG,
            Type.INT,
            RECOMMENDATIONS_TOP_K_DEFAULT,
            Range.between(1, 1000),
            Importance.MEDIUM,
            RECOMMENDATIONS_TOP_K_DOC)
        .define(
            RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG,
            Type.DOUBLE,
            RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DEFAULT,
            FINITE_NON_NEGATIVE,
            Importance.MEDIUM,
            RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DOC)
        .define(
            RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG,
            Type.DOUBLE,
            RECOMMENDATIONS_EMBEDDING_WEIGHT_DEFAULT,
            FINITE_NON_NEGATIVE,
            Importance.MEDIUM,
            RECOMMENDATIONS_EMBEDDING_WEIGHT_DOC)
        .define(
            RECOMMENDATIONS_MIN_SCORE_CONFIG,
            Type.DOUBLE,
            RECOMMENDATIONS_MIN_SCORE_DEFAULT,
            FINITE,
            Importance.LOW,
            RECOMMENDATIONS_MIN_SCORE_DOC)
        .define(
            RECOMMENDATIONS_VOCABULARY_FILE_CONFIG,
            Type.STRING,
            "",
            null,
            Importance.LOW,
            RECOMMENDATIONS_VOCABULARY_FILE_DOC)
        .define(
            RECOMMENDATIONS_TRYON_CATEGORIES_CONFIG,
            Type.LIST,
            RECOMMENDATIONS_TRYON_CATEGORIES_DEFAULT,
            GARMENT_CATEGORY_LIST,
            Importance.LOW,
            RECOMMENDATIONS_TRYON_CATEGORIES_DOC)
        .define(
            RECOMMENDATIONS_EMBEDDINGS_TOPIC_CONFIG,
            Type.STRING,
            RECOMMENDATIONS_EMBEDDINGS_TOPIC_DEFAULT,
            new ConfigDef.NonEmptyString(),
            Importance.MEDIUM,
            RECOMMENDATIONS_EMBEDDINGS_TOPIC_DOC)
        .define(
            RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_CONFIG,
            Type.INT,
            RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DOC);
    d.group(GROUP_OPERATIONS)
        .define(
            HTTP_PORT_CONFIG,
            Type.INT,
            HTTP_PORT_DEFAULT,
            Range.between(-1, 65535),
            Importance.MEDIUM,
            HTTP_PORT_DOC)
        .define(
            LOG_FORMAT_CONFIG,
            Type.STRING,
            LOG_FORMAT_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in("text", "json"),
            Importance.LOW,
            LOG_FORMAT_DOC)
        .define(
            SHUTDOWN_TIMEOUT_MS_CONFIG,
            Type.LONG,
            SHUTDOWN_TIMEOUT_MS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            SHUTDOWN_TIMEOUT_MS_DOC);
    return d.def;
  }

  /** Keeps group and order-in-group bookkeeping out of every definition. */
  private static final class Definer {
    final ConfigDef def = new ConfigDef();
    String group;
    int order;

    Definer group(String name) {
      group = name;
      order = 0;
      return this;
    }

    Definer define(
        String name,
        Type type,
        Object defaultValue,
        ConfigDef.Validator validator,
        Importance importance,
        String doc) {
      def.define(
          name, type, defaultValue, validator, importance, doc, group, ++order, Width.MEDIUM, name);
      return this;
    }
  }
}
