package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfig.AttributePrompt;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/**
 * The questions, conversations and attributes group: what the topology asks, accepts, keeps and
 * retries. Defaults are {@link ShopLensTopologyConfig#defaults()}'s; settings not listed here keep
 * them.
 */
public final class TopologySettings {
  static final SettingGroup SETTINGS = new SettingGroup("Questions, conversations and attributes");

  // First: the defaults below read it during class initialisation.
  private static final ShopLensTopologyConfig DEFAULTS = ShopLensTopologyConfig.defaults();

  private static final Range NEW_TOKENS = Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT);

  // Captions and attribute answers: every decoding option of LAVIS's generate() (greedy by
  // default, as ShopLens always captioned); an upload's own captionOptions override the caption's.
  private static final DecodingSettings CAPTION =
      new DecodingSettings(
          SETTINGS,
          "shoplens.caption",
          "captions",
          "The first is the event's caption, the others its alternativeCaptions.",
          DEFAULTS.captionOptions());

  public static final String CAPTION_MAX_NEW_TOKENS_CONFIG = CAPTION.key("max.new.tokens");

  public static final Setting ATTRIBUTE_PROMPTS =
      SETTINGS
          .define(
              "shoplens.attribute.prompts",
              DEFAULTS.attributePrompts().stream().map(p -> p.name() + "=" + p.question()).toList(),
              null)
          .importance(Importance.MEDIUM)
          .doc(
              "Questions asked of every upload to describe it, as name=question pairs (comma-separated;"
                  + " a question cannot contain a comma). Empty: captions only.");

  private static final DecodingSettings ATTRIBUTE =
      new DecodingSettings(
          SETTINGS,
          "shoplens.attribute",
          "attribute answers",
          "Only the first is the attribute's value.",
          DEFAULTS.attributeOptions());
  public static final String ATTRIBUTE_MAX_NEW_TOKENS_CONFIG = ATTRIBUTE.key("max.new.tokens");

  public static final Setting ANSWER_MAX_NEW_TOKENS =
      SETTINGS
          .define(
              "shoplens.answer.max.new.tokens", DEFAULTS.answerOptions().maxNewTokens(), NEW_TOKENS)
          .doc("Default longest answer, in tokens, for questions that do not set their own.");

  public static final Setting QUESTION_MAX_NEW_TOKENS_LIMIT =
      SETTINGS
          .define(
              "shoplens.question.max.new.tokens.limit", DEFAULTS.maxNewTokensLimit(), NEW_TOKENS)
          .doc(
              "A question, or an upload's captionOptions, asking for more new tokens than this is"
                  + " dead-lettered.");

  public static final Setting QUESTION_MAX_LENGTH =
      SETTINGS
          .define(
              "shoplens.question.max.length",
              DEFAULTS.maxQuestionChars(),
              Range.between(1, 100_000))
          .doc("Longest question text accepted, in characters; longer ones are dead-lettered.");

  public static final Setting QUESTION_WAIT_MAX_MS =
      SETTINGS
          .define(
              "shoplens.question.wait.max.ms", DEFAULTS.waitingQuestionTimeout(), Range.atLeast(1))
          .importance(Importance.MEDIUM)
          .doc(
              "How long a question that arrived before its upload waits for it before it is"
                  + " dead-lettered.");

  public static final Setting QUESTION_WAIT_MAX_COUNT =
      SETTINGS
          .define(
              "shoplens.question.wait.max.count", DEFAULTS.maxWaitingQuestions(), Range.atLeast(0))
          .doc(
              "Most questions waiting for their uploads per stream task (input partition); further ones"
                  + " are dead-lettered at once.");

  public static final Setting UPLOAD_RETENTION_MS =
      SETTINGS
          .define("shoplens.upload.retention.ms", DEFAULTS.uploadRetention(), Range.atLeast(1))
          .importance(Importance.MEDIUM)
          .doc("How long an upload is kept for questions about it.");

  public static final Setting CONVERSATION_MAX_TURNS =
      SETTINGS
          .define(
              "shoplens.conversation.max.turns", DEFAULTS.conversationMaxTurns(), Range.atLeast(0))
          .doc(
              "Earlier turns of a conversation put into the prompt of its next question (newest kept).");

  public static final Setting CONVERSATION_MAX_TOKENS =
      SETTINGS
          .define(
              "shoplens.conversation.max.tokens",
              DEFAULTS.conversationMaxTokens(),
              Range.atLeast(0))
          .doc("Bound on the estimated tokens of those earlier turns (oldest dropped first).");

  public static final Setting CONVERSATION_TTL_MS =
      SETTINGS
          .define("shoplens.conversation.ttl.ms", DEFAULTS.conversationTtl(), Range.atLeast(1))
          .doc("A conversation idle for longer is forgotten; its next question starts afresh.");

  public static final Setting MAX_IN_FLIGHT =
      SETTINGS
          .define("shoplens.inflight.max", DEFAULTS.maxInFlightRequests(), Range.atLeast(1))
          .importance(Importance.MEDIUM)
          .doc(
              "Inference requests in flight per instance (kept in a changelogged store, so a crash loses"
                  + " none); at the bound the stream threads wait. At most "
                  + ModelSettings.QUEUE_CAPACITY.name()
                  + ".");

  public static final Setting MAX_ATTEMPTS =
      SETTINGS
          .define("shoplens.inference.max.attempts", DEFAULTS.maxAttempts(), Range.atLeast(1))
          .doc("Tries per request for retriable failures before it is dead-lettered.");

  public static final Setting RETRY_BACKOFF_MS =
      SETTINGS
          .define("shoplens.inference.retry.backoff.ms", DEFAULTS.retryBackoff(), Range.atLeast(0))
          .doc("Wait before a failed request is tried again.");

  public static final Setting STATE_STORE_TYPE =
      SETTINGS
          .define("shoplens.state.store.type", DEFAULTS.storeType())
          .doc(
              "PERSISTENT (RocksDB under state.dir: fast restarts) or IN_MEMORY (restored from the"
                  + " changelog topics on every start).");

  private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[a-z][a-z0-9_]*");

  private TopologySettings() {}

  /**
   * Checks what the types cannot: the in-flight bound against the engine's queue, the caption and
   * attribute decoding options as a whole, and the prompts.
   *
   * @return whether the decoding options fit and the attribute prompts parse (the topology settings
   *     can be built from them)
   */
  static boolean check(ShopLensConfig c, List<String> problems) {
    int maxInFlight = c.getInt(MAX_IN_FLIGHT.name());
    int queueCapacity = c.getInt(ModelSettings.QUEUE_CAPACITY.name());
    if (maxInFlight > queueCapacity) {
      problems.add(
          MAX_IN_FLIGHT.name()
              + ": "
              + maxInFlight
              + " is more than "
              + ModelSettings.QUEUE_CAPACITY.name()
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
      problems.add(ATTRIBUTE_PROMPTS.name() + ": " + e.getMessage());
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
    for (String entry : c.getList(ATTRIBUTE_PROMPTS.name())) {
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
    return DEFAULTS.answerOptions().withMaxNewTokens(c.getInt(ANSWER_MAX_NEW_TOKENS.name()));
  }

  /** The caption defaults an upload's own captionOptions override (also the gateway's). */
  static DecodingOptions captionOptions(ShopLensConfig c) {
    return CAPTION.options(c);
  }

  /** The most new tokens a question may ask for (also the gateway's). */
  static int maxNewTokensLimit(ShopLensConfig c) {
    return c.getInt(QUESTION_MAX_NEW_TOKENS_LIMIT.name());
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
        .maxQuestionChars(c.getInt(QUESTION_MAX_LENGTH.name()))
        .maxNewTokensLimit(maxNewTokensLimit(c))
        .maxInlineImageBytes(c.getLong(ImageSettings.IMAGE_INLINE_MAX_BYTES.name()))
        .uploadRetention(c.getDuration(UPLOAD_RETENTION_MS.name()))
        .waitingQuestionTimeout(c.getDuration(QUESTION_WAIT_MAX_MS.name()))
        .maxWaitingQuestions(c.getInt(QUESTION_WAIT_MAX_COUNT.name()))
        .conversationMaxTurns(c.getInt(CONVERSATION_MAX_TURNS.name()))
        .conversationMaxTokens(c.getInt(CONVERSATION_MAX_TOKENS.name()))
        .conversationTtl(c.getDuration(CONVERSATION_TTL_MS.name()))
        .maxInFlightRequests(c.getInt(MAX_IN_FLIGHT.name()))
        .maxAttempts(c.getInt(MAX_ATTEMPTS.name()))
        .retryBackoff(c.getDuration(RETRY_BACKOFF_MS.name()))
        .storeType(c.getEnum(STATE_STORE_TYPE.name(), ShopLensTopologyConfig.StoreType.class))
        .recommendations(c.recommendConfig())
        .retrieval(c.retrievalConfig())
        .build();
  }
}
