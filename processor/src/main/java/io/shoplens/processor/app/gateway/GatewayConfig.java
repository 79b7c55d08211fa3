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
    Objects.requireNonNull(corsAllowedOrigins, "corsAllowedOrigins");
    Objects.requireNonNull(viewTtl, "viewTtl");
    Objects.requireNonNull(bindAddress, "bindAddress");
    Objects.requireNonNull(answerOptions, "answerOptions");
    Objects.requireNonNull(captionOptions, "captionOptions");
    Objects.requireNonNull(searchTimeout, "searchTimeout");
    corsAllowedOrigins = List.copyOf(corsAllowedOrigins);
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

  public static Builder builder() {
    return defaults().toBuilder();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes some options; {@link #build()} validates them all. */
  public static final class Builder {
    private int port;
    private String bindAddress;
    private int maxImageBytes;
    private int maxQuestionChars;
    private int requestsPerMinute;
    private Password apiKey;
    private List<String> corsAllowedOrigins;
    private Duration viewTtl;
    private int viewMaxUploads;
    private boolean pageEnabled;
    private DecodingOptions answerOptions;
    private DecodingOptions captionOptions;
    private int maxNewTokensLimit;
    private int searchMaxQueryChars;
    private int searchMaxLimit;
    private Duration searchTimeout;

    private Builder(GatewayConfig c) {
      port = c.port;
      bindAddress = c.bindAddress;
      maxImageBytes = c.maxImageBytes;
      maxQuestionChars = c.maxQuestionChars;
      requestsPerMinute = c.requestsPerMinute;
      apiKey = c.apiKey;
      corsAllowedOrigins = c.corsAllowedOrigins;
      viewTtl = c.viewTtl;
      viewMaxUploads = c.viewMaxUploads;
      pageEnabled = c.pageEnabled;
      answerOptions = c.answerOptions;
      captionOptions = c.captionOptions;
      maxNewTokensLimit = c.maxNewTokensLimit;
      searchMaxQueryChars = c.searchMaxQueryChars;
      searchMaxLimit = c.searchMaxLimit;
      searchTimeout = c.searchTimeout;
    }

    public Builder port(int v) {
      port = v;
      return this;
    }

    public Builder bindAddress(String v) {
      bindAddress = v;
      return this;
    }

    public Builder maxImageBytes(int v) {
      maxImageBytes = v;
      return this;
    }

    public Builder maxQuestionChars(int v) {
      maxQuestionChars = v;
      return this;
    }

    public Builder requestsPerMinute(int v) {
      requestsPerMinute = v;
      return this;
    }

    public Builder apiKey(Password v) {
      apiKey = v;
      return this;
    }

    public Builder corsAllowedOrigins(List<String> v) {
      corsAllowedOrigins = v;
      return this;
    }

    public Builder viewTtl(Duration v) {
      viewTtl = v;
      return this;
    }

    public Builder viewMaxUploads(int v) {
      viewMaxUploads = v;
      return this;
    }

    public Builder pageEnabled(boolean v) {
      pageEnabled = v;
      return this;
    }

    public Builder answerOptions(DecodingOptions v) {
      answerOptions = v;
      return this;
    }

    public Builder captionOptions(DecodingOptions v) {
      captionOptions = v;
      return this;
    }

    public Builder maxNewTokensLimit(int v) {
      maxNewTokensLimit = v;
      return this;
    }

    public Builder searchMaxQueryChars(int v) {
      searchMaxQueryChars = v;
      return this;
    }

    public Builder searchMaxLimit(int v) {
      searchMaxLimit = v;
      return this;
    }

    public Builder searchTimeout(Duration v) {
      searchTimeout = v;
      return this;
    }

    public GatewayConfig build() {
      return new GatewayConfig(
          port,
          bindAddress,
          maxImageBytes,
          maxQuestionChars,
          requestsPerMinute,
          apiKey,
          corsAllowedOrigins,
          viewTtl,
          viewMaxUploads,
          pageEnabled,
          answerOptions,
          captionOptions,
          maxNewTokensLimit,
          searchMaxQueryChars,
          searchMaxLimit,
          searchTimeout);
    }
  }
}
