package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.inRange;
import static io.shoplens.processor.options.OptionChecks.notBlank;
import static io.shoplens.processor.options.OptionChecks.positive;
import static io.shoplens.processor.options.OptionChecks.require;

import io.shoplens.processor.images.ImageResolverConfig;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.topology.QuestionDecoding;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.search.RetrievalConfig;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.config.types.Password;

/**
 * The gateway's options: its port, the limits every request is checked against, authentication,
 * CORS and the size of its view of the results.
 *
 * @param port HTTP port; 0 picks a free one
 * @param bindAddress the address to listen on: {@code 0.0.0.0} for every interface (behind a load
 *     balancer), {@code 127.0.0.1} for this machine only (the demo)
 * @param maxImageBytes larger uploads are refused with 413
 * @param maxQuestionChars longer questions are refused with 400
 * @param requestsPerMinute requests one client (API key, else remote address) may make per minute;
 *     0 turns the limit off
 * @param apiKey when set, every {@code /v1} request must carry it as {@code X-API-Key} or {@code
 *     Authorization: Bearer}; a {@link Password} so that it prints as {@code [hidden]}
 * @param corsAllowedOrigins origins browsers may call from ({@code *} for any); empty turns CORS
 *     off
 * @param viewTtl how long an upload's results stay in the view after its last event
 * @param viewMaxUploads the view keeps at most this many uploads, dropping the oldest
 * @param pageEnabled whether the demo page is served at {@code /}
 * @param answerOptions the answer defaults of the ShopLens behind this gateway; a question's
 *     generation options are checked against them with {@link QuestionDecoding#resolve}
 * @param captionOptions the caption defaults of the ShopLens behind this gateway; an upload's
 *     caption options are checked against them in the same way
 * @param maxNewTokensLimit the most new tokens a question may ask for (as ShopLens's {@code
 *     shoplens.question.max.new.tokens.limit}); more is refused with 400
 * @param searchMaxQueryChars longer search texts are refused with 400 (as ShopLens's {@code
 *     shoplens.search.max.query.chars})
 * @param searchMaxLimit a search asking for more products is refused with 400 (as ShopLens's {@code
 *     shoplens.search.max.limit})
 * @param searchTimeout how long {@code POST /v1/search} waits for the results before it answers 202
 *     with the address to read them from
 */
@RecordBuilder
public record GatewayConfig(
    int port,
    String bindAddress,
    int maxImageBytes,
    int maxQuestionChars,
    int requestsPerMinute,
    Password apiKey,
    List<String> corsAllowedOrigins,
    Duration viewTtl,
    int viewMaxUploads,
    boolean pageEnabled,
    DecodingOptions answerOptions,
    DecodingOptions captionOptions,
    int maxNewTokensLimit,
    int searchMaxQueryChars,
    int searchMaxLimit,
    Duration searchTimeout) {

  public GatewayConfig {
    // bindAddress and viewTtl are null-checked, by name, with their other checks below.
    corsAllowedOrigins =
        List.copyOf(Objects.requireNonNull(corsAllowedOrigins, "corsAllowedOrigins"));
    Objects.requireNonNull(answerOptions, "answerOptions");
    Objects.requireNonNull(captionOptions, "captionOptions");
    Objects.requireNonNull(searchTimeout, "searchTimeout");
    inRange("port", port, 0, 65535);
    notBlank("bindAddress", bindAddress);
    require(
        maxQuestionChars <= MAX_QUESTION_CHARS_LIMIT,
        "maxQuestionChars must be at most "
            + MAX_QUESTION_CHARS_LIMIT
            + " (JSON bodies are limited to "
            + MAX_JSON_BYTES
            + " bytes), got "
            + maxQuestionChars);
    atLeast("maxImageBytes", maxImageBytes, 1);
    atLeast("maxQuestionChars", maxQuestionChars, 1);
    atLeast("requestsPerMinute", requestsPerMinute, 0);
    require(apiKey == null || !apiKey.value().isBlank(), "apiKey must not be blank when it is set");
    positive("viewTtl", viewTtl);
    atLeast("viewMaxUploads", viewMaxUploads, 1);
    inRange("maxNewTokensLimit", maxNewTokensLimit, 1, DecodingOptions.MAX_NEW_TOKENS_LIMIT);
    require(
        searchMaxQueryChars >= 1 && searchMaxQueryChars <= MAX_QUESTION_CHARS_LIMIT,
        "searchMaxQueryChars must be in [1, "
            + MAX_QUESTION_CHARS_LIMIT
            + "] (JSON bodies are limited to "
            + MAX_JSON_BYTES
            + " bytes), got "
            + searchMaxQueryChars);
    atLeast("searchMaxLimit", searchMaxLimit, 1);
    require(
        !searchTimeout.isNegative() && searchTimeout.compareTo(MAX_SEARCH_TIMEOUT) <= 0,
        "searchTimeout must be in [0, " + MAX_SEARCH_TIMEOUT + "], got " + searchTimeout);
  }

  /**
   * The longest a search request holds its connection: longer than load balancers' usual idle
   * timeouts is pointless, the results stay readable at {@code GET /v1/search/{id}}.
   */
  public static final Duration MAX_SEARCH_TIMEOUT = Duration.ofSeconds(60);

  /** JSON request bodies (questions, URL uploads) are refused with 413 beyond this many bytes. */
  public static final int MAX_JSON_BYTES = 64 * 1024;

  /**
   * Longest question limit whose JSON fits {@link #MAX_JSON_BYTES}, a character escaped as six
   * bytes.
   */
  public static final int MAX_QUESTION_CHARS_LIMIT = 8 * 1024;

  /**
   * The defaults: port 8081 on every interface, images up to the topology's inline limit,
   * 500-character questions, 120 requests a minute, no API key, no CORS; generation and caption
   * options checked against ShopLens's default answer and caption options and token limit, searches
   * against its default search limits; a search waits up to 10 s for its results.
   */
  public static GatewayConfig defaults() {
    ShopLensTopologyConfig shopLens = ShopLensTopologyConfig.defaults();
    RetrievalConfig retrieval = RetrievalConfig.defaults();
    return new GatewayConfig(
        8081,
        "0.0.0.0",
        // ShopLens dead-letters larger inline images; refusing them at the door tells the shopper.
        (int) ImageResolverConfig.DEFAULT_MAX_INLINE_BYTES,
        500,
        120,
        null,
        List.of(),
        Duration.ofHours(1),
        10_000,
        true,
        shopLens.answerOptions(),
        shopLens.captionOptions(),
        shopLens.maxNewTokensLimit(),
        retrieval.maxQueryChars(),
        retrieval.maxLimit(),
        Duration.ofSeconds(10));
  }

  public static GatewayConfigBuilder builder() {
    return GatewayConfigBuilder.builder(defaults());
  }

  public GatewayConfigBuilder toBuilder() {
    return GatewayConfigBuilder.builder(this);
  }
}
