package io.shoplens.processor.topology;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.inRange;
import static io.shoplens.processor.options.OptionChecks.notBlank;
import static io.shoplens.processor.options.OptionChecks.notNegative;
import static io.shoplens.processor.options.OptionChecks.positive;
import static io.shoplens.processor.options.OptionChecks.require;

import io.shoplens.processor.images.ImageResolverConfig;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.search.RetrievalConfig;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.Stores;

/**
 * Everything {@link ShopLensTopology#build} needs besides the engine and the image resolver.
 * Validated on construction; start from {@link #builder(Map)} (the {@link #defaults()} with serde
 * settings), or change single settings with {@link #toBuilder()}.
 *
 * @param serdeConfig Avro serde settings for every topic (at least {@code schema.registry.url})
 * @param modelId the model bundle's {@code model_id}, reported in every output's {@code ModelInfo}
 *     (the version comes from each result)
 * @param imageTokens the bundle's {@code num_query_tokens}: the engine counts them in its prompt
 *     length, outputs report them apart ({@code TokenCounts.imageTokens})
 * @param replayRunId set for a replay run (reported in every output's lineage); null for the live
 *     run
 * @param captionOptions how captions are generated
 * @param attributePrompts attribute questions asked about every upload, in output order; names
 *     unique (default: category, colour, material, pattern, style)
 * @param attributeOptions how attribute answers are generated
 * @param answerOptions defaults for questions; each question's own options override field by field
 * @param maxQuestionChars longer questions are dead-lettered (stage VALIDATE)
 * @param maxNewTokensLimit a question, or an upload's caption options, asking for more new tokens
 *     is dead-lettered (VALIDATE)
 * @param maxInlineImageBytes larger inline images are dead-lettered (VALIDATE)
 * @param uploadRetention how long an upload is kept for questions after it arrived
 * @param waitingQuestionTimeout how long a question waits for an upload that has not arrived yet
 *     before it is dead-lettered as "upload not found" (stage JOIN)
 * @param maxWaitingQuestions most questions waiting per task (input partition); a question beyond
 *     it is dead-lettered at once
 * @param conversationMaxTurns earlier turns of a conversation put into the prompt, newest kept
 * @param conversationMaxTokens bound on the estimated tokens of those turns (oldest dropped first;
 *     estimate: the larger of words and characters / 4 per turn)
 * @param conversationTtl a conversation idle for longer is forgotten
 * @param maxInFlightRequests engine requests in flight per application instance (all tasks and
 *     threads); keep it at most the engine's queue capacity so that submitting never blocks
 * @param inFlightWaitSlice when the in-flight bound is reached the stream thread waits for
 *     completions in slices of this length
 * @param inFlightMaxBlock longest a stream thread waits for room per record; then the request is
 *     kept in the in-flight store and submitted by the punctuator. Keep well under {@code
 *     max.poll.interval.ms}
 * @param maxAttempts tries per request for retriable failures (model errors, refused references
 *     marked retriable) before it is dead-lettered; engine rejections (queue full, closing) do not
 *     count
 * @param retryBackoff wait before a failed request is tried again
 * @param punctuationInterval wall-clock interval at which completed results are forwarded
 * @param sweepInterval wall-clock interval at which waiting questions, uploads and conversations
 *     are expired
 * @param storeType where state lives (changelogged either way)
 * @param recommendations catalog recommendations (disabled by default; see {@link RecommendConfig})
 * @param retrieval what a loaded retrieval model is used for: catalog and upload image features,
 *     searches, related products (disabled by default; see {@link RetrievalConfig})
 */
@RecordBuilder
public record ShopLensTopologyConfig(
    Map<String, Object> serdeConfig,
    String modelId,
    int imageTokens,
    String replayRunId,
    DecodingOptions captionOptions,
    List<AttributePrompt> attributePrompts,
    DecodingOptions attributeOptions,
    DecodingOptions answerOptions,
    int maxQuestionChars,
    int maxNewTokensLimit,
    long maxInlineImageBytes,
    Duration uploadRetention,
    Duration waitingQuestionTimeout,
    int maxWaitingQuestions,
    int conversationMaxTurns,
    int conversationMaxTokens,
    Duration conversationTtl,
    int maxInFlightRequests,
    Duration inFlightWaitSlice,
    Duration inFlightMaxBlock,
    int maxAttempts,
    Duration retryBackoff,
    Duration punctuationInterval,
    Duration sweepInterval,
    StoreType storeType,
    RecommendConfig recommendations,
    RetrievalConfig retrieval) {

  /** The default attribute prompts: category, colour, material, pattern, style. */
  public static final List<AttributePrompt> DEFAULT_ATTRIBUTE_PROMPTS =
      List.of(
          new AttributePrompt("category", "What type of product is this?"),
          new AttributePrompt("colour", "What colour is it?"),
          new AttributePrompt("material", "What material is it made of?"),
          new AttributePrompt("pattern", "What pattern does it have?"),
          new AttributePrompt("style", "What style is it?"));

  /** Where state stores keep their data. Both are backed by changelog topics. */
  public enum StoreType {
    /** RocksDB on local disk: fast restarts from the local checkpoint. */
    PERSISTENT,
    /** In memory: restored from the changelog on every start. */
    IN_MEMORY;

    /** A key-value store of this type named {@code name}. */
    public KeyValueBytesStoreSupplier supplier(String name) {
      return this == PERSISTENT
          ? Stores.persistentKeyValueStore(name)
          : Stores.inMemoryKeyValueStore(name);
    }
  }

  /**
   * One attribute question asked about every upload.
   *
   * @param name the attribute name in {@code ImageCaptioned.attributes}, e.g. {@code colour}
   * @param question the question put to the model, e.g. "What colour is it?"
   */
  public record AttributePrompt(String name, String question) {
    public AttributePrompt {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(question, "question");
      if (name.isBlank() || question.isBlank()) {
        throw new IllegalArgumentException("attribute prompt name and question must not be blank");
      }
    }
  }

  public ShopLensTopologyConfig {
    serdeConfig = Map.copyOf(Objects.requireNonNull(serdeConfig, "serdeConfig"));
    Objects.requireNonNull(modelId, "modelId");
    Objects.requireNonNull(captionOptions, "captionOptions");
    Objects.requireNonNull(attributeOptions, "attributeOptions");
    Objects.requireNonNull(answerOptions, "answerOptions");
    attributePrompts = List.copyOf(Objects.requireNonNull(attributePrompts, "attributePrompts"));
    Set<String> names = new HashSet<>();
    for (AttributePrompt p : attributePrompts) {
      require(names.add(p.name()), "attribute prompt names must be unique, repeated: " + p.name());
    }
    notBlank("modelId", modelId);
    atLeast("imageTokens", imageTokens, 0);
    atLeast("maxQuestionChars", maxQuestionChars, 1);
    inRange("maxNewTokensLimit", maxNewTokensLimit, 1, DecodingOptions.MAX_NEW_TOKENS_LIMIT);
    atLeast("maxInlineImageBytes", maxInlineImageBytes, 1);
    positive("uploadRetention", uploadRetention);
    positive("waitingQuestionTimeout", waitingQuestionTimeout);
    atLeast("maxWaitingQuestions", maxWaitingQuestions, 0);
    atLeast("conversationMaxTurns", conversationMaxTurns, 0);
    atLeast("conversationMaxTokens", conversationMaxTokens, 0);
    positive("conversationTtl", conversationTtl);
    require(
        maxInFlightRequests >= 1 + attributePrompts.size(),
        "maxInFlightRequests must be at least 1 + the number of attribute prompts ("
            + (1 + attributePrompts.size())
            + ") so that one upload fits, got "
            + maxInFlightRequests);
    positive("inFlightWaitSlice", inFlightWaitSlice);
    notNegative("inFlightMaxBlock", inFlightMaxBlock);
    atLeast("maxAttempts", maxAttempts, 1);
    notNegative("retryBackoff", retryBackoff);
    positive("punctuationInterval", punctuationInterval);
    positive("sweepInterval", sweepInterval);
    Objects.requireNonNull(storeType, "storeType");
    Objects.requireNonNull(recommendations, "recommendations");
    Objects.requireNonNull(retrieval, "retrieval");
    require(
        maxInFlightRequests >= requestsPerUpload(attributePrompts, recommendations, retrieval),
        "maxInFlightRequests must be at least the engine requests of one upload ("
            + requestsPerUpload(attributePrompts, recommendations, retrieval)
            + ": caption, attribute prompts, and the image embedding when recommending), got "
            + maxInFlightRequests);
  }

  /**
   * Engine requests an upload makes: its caption, one per attribute prompt, and its image embedding
   * when recommendations are enabled or a retrieval model is loaded (then the retrieval model's
   * image features, which recommendations use too).
   */
  public int requestsPerUpload() {
    return requestsPerUpload(attributePrompts, recommendations, retrieval);
  }

  /**
   * Whether the catalog is embedded into the global catalog store and index: for recommendations,
   * and for searches and related products when a retrieval model is loaded.
   */
  public boolean catalogNeeded() {
    return recommendations.enabled() || retrieval.enabled();
  }

  private static int requestsPerUpload(
      List<AttributePrompt> prompts, RecommendConfig recommendations, RetrievalConfig retrieval) {
    return 1 + prompts.size() + (recommendations.enabled() || retrieval.enabled() ? 1 : 0);
  }

  /**
   * Production's defaults: no serde settings (a caller gives at least {@code schema.registry.url}),
   * model id "unknown" with 32 image tokens, greedy captions of up to 30 tokens, the five {@link
   * #DEFAULT_ATTRIBUTE_PROMPTS} answered in up to 10 tokens, answers of up to 30 tokens, inline
   * images up to {@link ImageResolverConfig#DEFAULT_MAX_INLINE_BYTES}, 64 requests in flight,
   * RocksDB stores, recommendations off, no retrieval model.
   */
  public static ShopLensTopologyConfig defaults() {
    return new ShopLensTopologyConfig(
        Map.of(),
        "unknown",
        32,
        null,
        DecodingOptions.greedy().withMaxNewTokens(30),
        DEFAULT_ATTRIBUTE_PROMPTS,
        DecodingOptions.greedy().withMaxNewTokens(10),
        DecodingOptions.greedy().withMaxNewTokens(30),
        500,
        128,
        ImageResolverConfig.DEFAULT_MAX_INLINE_BYTES,
        Duration.ofDays(7),
        Duration.ofMinutes(5),
        10_000,
        8,
        256,
        Duration.ofHours(1),
        64,
        Duration.ofMillis(50),
        Duration.ofSeconds(30),
        3,
        Duration.ofSeconds(1),
        Duration.ofMillis(10),
        Duration.ofSeconds(1),
        StoreType.PERSISTENT,
        RecommendConfig.defaults(),
        RetrievalConfig.defaults());
  }

  /** A builder starting from {@link #defaults()}. */
  public static ShopLensTopologyConfigBuilder builder() {
    return ShopLensTopologyConfigBuilder.builder(defaults());
  }

  /** A builder starting from {@link #defaults()} with the given serde settings. */
  public static ShopLensTopologyConfigBuilder builder(Map<String, ?> serdeConfig) {
    return builder().serdeConfig(new LinkedHashMap<>(serdeConfig));
  }

  /** A builder starting from this configuration. */
  public ShopLensTopologyConfigBuilder toBuilder() {
    return ShopLensTopologyConfigBuilder.builder(this);
  }
}
