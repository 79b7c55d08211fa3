package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfig.AttributePrompt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The questions, conversations and attributes group: what the topology asks, accepts, keeps and
 * retries. Defaults are {@link ShopLensTopologyConfig#defaults()}'s; settings not listed here keep
 * them.
 */
public final class TopologySettings {
  public static final String GROUP = "Questions, conversations and attributes";

  // First: the defaults below read it during class initialisation.
  private static final ShopLensTopologyConfig DEFAULTS = ShopLensTopologyConfig.defaults();

  // Captions and attribute answers: every decoding option of LAVIS's generate() (greedy by
  // default, as ShopLens always captioned); an upload's own captionOptions override the caption's.
  private static final DecodingSettings CAPTION =
      new DecodingSettings(
          "shoplens.caption",
          "captions",
          "The first is the event's caption, the others its alternativeCaptions.",
          DEFAULTS.captionOptions());
  private static final DecodingSettings ATTRIBUTE =
      new DecodingSettings(
          "shoplens.attribute",
          "attribute answers",
          "Only the first is the attribute's value.",
          DEFAULTS.attributeOptions());

  public static final String CAPTION_MAX_NEW_TOKENS_CONFIG = CAPTION.key("max.new.tokens");

  public static final String ATTRIBUTE_PROMPTS_CONFIG = "shoplens.attribute.prompts";
  public static final String ATTRIBUTE_PROMPTS_DEFAULT =
      String.join(
          ",",
          DEFAULTS.attributePrompts().stream().map(p -> p.name() + "=" + p.question()).toList());
  public static final String ATTRIBUTE_PROMPTS_DOC =
      "Questions asked of every upload to describe it, as name=question pairs (comma-separated;"
          + " a question cannot contain a comma). Empty: captions only.";

  public static final String ATTRIBUTE_MAX_NEW_TOKENS_CONFIG = ATTRIBUTE.key("max.new.tokens");

  public static final String ANSWER_MAX_NEW_TOKENS_CONFIG = "shoplens.answer.max.new.tokens";
  public static final int ANSWER_MAX_NEW_TOKENS_DEFAULT = DEFAULTS.answerOptions().maxNewTokens();
  public static final String ANSWER_MAX_NEW_TOKENS_DOC =
      "Default longest answer, in tokens, for questions that do not set their own.";

  public static final String QUESTION_MAX_NEW_TOKENS_LIMIT_CONFIG =
      "shoplens.question.max.new.tokens.limit";
  public static final int QUESTION_MAX_NEW_TOKENS_LIMIT_DEFAULT = DEFAULTS.maxNewTokensLimit();
  public static final String QUESTION_MAX_NEW_TOKENS_LIMIT_DOC =
      "A question, or an upload's captionOptions, asking for more new tokens than this is"
          + " dead-lettered.";

  public static final String QUESTION_MAX_LENGTH_CONFIG = "shoplens.question.max.length";
  public static final int QUESTION_MAX_LENGTH_DEFAULT = DEFAULTS.maxQuestionChars();
  public static final String QUESTION_MAX_LENGTH_DOC =
      "Longest question text accepted, in characters; longer ones are dead-lettered.";

  public static final String QUESTION_WAIT_MAX_MS_CONFIG = "shoplens.question.wait.max.ms";
  public static final long QUESTION_WAIT_MAX_MS_DEFAULT =
      DEFAULTS.waitingQuestionTimeout().toMillis();
  public static final String QUESTION_WAIT_MAX_MS_DOC =
      "How long a question that arrived before its upload waits for it before it is"
          + " dead-lettered.";

  public static final String QUESTION_WAIT_MAX_COUNT_CONFIG = "shoplens.question.wait.max.count";
  public static final int QUESTION_WAIT_MAX_COUNT_DEFAULT = DEFAULTS.maxWaitingQuestions();
  public static final String QUESTION_WAIT_MAX_COUNT_DOC =
      "Most questions waiting for their uploads per stream task (input partition); further ones"
          + " are dead-lettered at once.";

  public static final String UPLOAD_RETENTION_MS_CONFIG = "shoplens.upload.retention.ms";
  public static final long UPLOAD_RETENTION_MS_DEFAULT = DEFAULTS.uploadRetention().toMillis();
  public static final String UPLOAD_RETENTION_MS_DOC =
      "How long an upload is kept for questions about it.";

  public static final String CONVERSATION_MAX_TURNS_CONFIG = "shoplens.conversation.max.turns";
  public static final int CONVERSATION_MAX_TURNS_DEFAULT = DEFAULTS.conversationMaxTurns();
  public static final String CONVERSATION_MAX_TURNS_DOC =
      "Earlier turns of a conversation put into the prompt of its next question (newest kept).";

  public static final String CONVERSATION_MAX_TOKENS_CONFIG = "shoplens.conversation.max.tokens";
  public static final int CONVERSATION_MAX_TOKENS_DEFAULT = DEFAULTS.conversationMaxTokens();
  public static final String CONVERSATION_MAX_TOKENS_DOC =
      "Bound on the estimated tokens of those earlier turns (oldest dropped first).";

  public static final String CONVERSATION_TTL_MS_CONFIG = "shoplens.conversation.ttl.ms";
  public static final long CONVERSATION_TTL_MS_DEFAULT = DEFAULTS.conversationTtl().toMillis();
  public static final String CONVERSATION_TTL_MS_DOC =
      "A conversation idle for longer is forgotten; its next question starts afresh.";

  public static final String MAX_IN_FLIGHT_CONFIG = "shoplens.inflight.max";
  public static final int MAX_IN_FLIGHT_DEFAULT = DEFAULTS.maxInFlightRequests();
  public static final String MAX_IN_FLIGHT_DOC =
      "Inference requests in flight per instance (kept in a changelogged store, so a crash loses"
          + " none); at the bound the stream threads wait. At most "
          + ModelSettings.QUEUE_CAPACITY_CONFIG
          + ".";

  public static final String MAX_ATTEMPTS_CONFIG = "shoplens.inference.max.attempts";
  public static final int MAX_ATTEMPTS_DEFAULT = DEFAULTS.maxAttempts();
  public static final String MAX_ATTEMPTS_DOC =
      "Tries per request for retriable failures before it is dead-lettered.";

  public static final String RETRY_BACKOFF_MS_CONFIG = "shoplens.inference.retry.backoff.ms";
  public static final long RETRY_BACKOFF_MS_DEFAULT = DEFAULTS.retryBackoff().toMillis();
  public static final String RETRY_BACKOFF_MS_DOC = "Wait before a failed request is tried again.";

  public static final String STATE_STORE_TYPE_CONFIG = "shoplens.state.store.type";
  public static final String STATE_STORE_TYPE_DEFAULT = DEFAULTS.storeType().name();
  public static final String STATE_STORE_TYPE_DOC =
      "PERSISTENT (RocksDB under state.dir: fast restarts) or IN_MEMORY (restored from the"
          + " changelog topics on every start).";

  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[a-z][a-z0-9_]*");

  private TopologySettings() {}

  static void define(SettingsDefiner d) {
    Range newTokens = Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT);
    d.group(GROUP);
    CAPTION.define(d);
    d.define(
        ATTRIBUTE_PROMPTS_CONFIG,
        Type.LIST,
        ATTRIBUTE_PROMPTS_DEFAULT,
        null,
        Importance.MEDIUM,
        ATTRIBUTE_PROMPTS_DOC);
    ATTRIBUTE.define(d);
    d.define(
            ANSWER_MAX_NEW_TOKENS_CONFIG,
            Type.INT,
            ANSWER_MAX_NEW_TOKENS_DEFAULT,
            newTokens,
            Importance.LOW,
            ANSWER_MAX_NEW_TOKENS_DOC)
        .define(
            QUESTION_MAX_NEW_TOKENS_LIMIT_CONFIG,
            Type.INT,
            QUESTION_MAX_NEW_TOKENS_LIMIT_DEFAULT,
            newTokens,
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
  }

  /**
   * Checks what the types cannot: the in-flight bound against the engine's queue, the caption and
   * attribute decoding options as a whole, and the prompts.
   *
   * @return whether the decoding options fit and the attribute prompts parse (the topology settings
   *     can be built from them)
   */
  static boolean check(ShopLensConfig c, List<String> problems) {
    int maxInFlight = c.getInt(MAX_IN_FLIGHT_CONFIG);
    int queueCapacity = c.getInt(ModelSettings.QUEUE_CAPACITY_CONFIG);
    if (maxInFlight > queueCapacity) {
      problems.add(
          MAX_IN_FLIGHT_CONFIG
              + ": "
              + maxInFlight
              + " is more than "
              + ModelSettings.QUEUE_CAPACITY_CONFIG
              + " ("
              + queueCapacity
              + "): submitting to a full engine queue would block the stream threads");
    }
    boolean decodingValid = true;
    for (DecodingSettings decoding : List.of(CAPTION, ATTRIBUTE)) {
      try {
        decoding.options(c);
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
        decodingValid = false;
      }
    }
    try {
      attributePrompts(c);
      return decodingValid;
    } catch (IllegalArgumentException e) {
      problems.add(ATTRIBUTE_PROMPTS_CONFIG + ": " + e.getMessage());
      return false;
    }
  }

  /**
   * Attribute prompts in the configured order.
   *
   * @throws IllegalArgumentException for an entry that is not name=question, or a repeated name
   */
  static List<AttributePrompt> attributePrompts(ShopLensConfig c) {
    List<AttributePrompt> prompts = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (String entry : c.getList(ATTRIBUTE_PROMPTS_CONFIG)) {
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
      prompts.add(new AttributePrompt(name, question));
    }
    return prompts;
  }

  /** The answer defaults for questions that set no options of their own (also the gateway's). */
  static DecodingOptions answerOptions(ShopLensConfig c) {
    return DEFAULTS.answerOptions().withMaxNewTokens(c.getInt(ANSWER_MAX_NEW_TOKENS_CONFIG));
  }

  /** The caption defaults an upload's own captionOptions override (also the gateway's). */
  static DecodingOptions captionOptions(ShopLensConfig c) {
    return CAPTION.options(c);
  }

  /** The most new tokens a question may ask for (also the gateway's). */
  static int maxNewTokensLimit(ShopLensConfig c) {
    return c.getInt(QUESTION_MAX_NEW_TOKENS_LIMIT_CONFIG);
  }

  /**
   * The topology's settings; the inline image limit is the images group's, the recommendations
   * their own group's.
   *
   * @throws IllegalArgumentException if the settings do not fit together
   */
  static ShopLensTopologyConfig topologyConfig(ShopLensConfig c, String modelId, int imageTokens) {
    return ShopLensTopologyConfig.builder(c.kafkaProperties())
        .modelId(modelId)
        .imageTokens(imageTokens)
        .captionOptions(captionOptions(c))
        .attributePrompts(attributePrompts(c))
        .attributeOptions(ATTRIBUTE.options(c))
        .answerOptions(answerOptions(c))
        .maxQuestionChars(c.getInt(QUESTION_MAX_LENGTH_CONFIG))
        .maxNewTokensLimit(maxNewTokensLimit(c))
        .maxInlineImageBytes(c.getLong(ImageSettings.IMAGE_INLINE_MAX_BYTES_CONFIG))
        .uploadRetention(Duration.ofMillis(c.getLong(UPLOAD_RETENTION_MS_CONFIG)))
        .waitingQuestionTimeout(Duration.ofMillis(c.getLong(QUESTION_WAIT_MAX_MS_CONFIG)))
        .maxWaitingQuestions(c.getInt(QUESTION_WAIT_MAX_COUNT_CONFIG))
        .conversationMaxTurns(c.getInt(CONVERSATION_MAX_TURNS_CONFIG))
        .conversationMaxTokens(c.getInt(CONVERSATION_MAX_TOKENS_CONFIG))
        .conversationTtl(Duration.ofMillis(c.getLong(CONVERSATION_TTL_MS_CONFIG)))
        .maxInFlightRequests(c.getInt(MAX_IN_FLIGHT_CONFIG))
        .maxAttempts(c.getInt(MAX_ATTEMPTS_CONFIG))
        .retryBackoff(Duration.ofMillis(c.getLong(RETRY_BACKOFF_MS_CONFIG)))
        .storeType(
            ShopLensTopologyConfig.StoreType.valueOf(
                c.getString(STATE_STORE_TYPE_CONFIG).toUpperCase(Locale.ROOT)))
        .recommendations(c.recommendConfig())
        .retrieval(c.retrievalConfig())
        .build();
  }
}
