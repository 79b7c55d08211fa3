package io.shoplens.processor.app.config;

import io.shoplens.processor.app.gateway.GatewayConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/**
 * The gateway group ({@code shoplens gateway}): its port, request limits, API key, CORS and view.
 * Defaults come from {@link GatewayConfig#defaults()}.
 */
public final class GatewaySettings {
  static final SettingGroup SETTINGS = new SettingGroup("Gateway");
  private static final GatewayConfig DEFAULTS = GatewayConfig.defaults();

  public static final Setting PORT =
      SETTINGS
          .define("shoplens.gateway.port", DEFAULTS.port(), Range.between(0, 65535))
          .importance(Importance.MEDIUM)
          .doc("Port of the gateway's HTTP API, page, health and metrics; 0 picks a free port.");

  public static final Setting BIND_ADDRESS =
      SETTINGS
          .define(
              "shoplens.gateway.bind.address",
              DEFAULTS.bindAddress(),
              new ConfigDef.NonEmptyStringWithoutControlChars())
          .importance(Importance.MEDIUM)
          .doc(
              "Address the gateway listens on: 0.0.0.0 (every interface, behind a load balancer that"
                  + " terminates TLS) or 127.0.0.1 (this machine only).");

  public static final Setting MAX_IMAGE_BYTES =
      SETTINGS
          .define("shoplens.gateway.max.image.bytes", DEFAULTS.maxImageBytes(), Range.atLeast(1))
          .importance(Importance.MEDIUM)
          .doc("Larger uploads are refused (413) before anything is published.");

  public static final Setting MAX_QUESTION_CHARS =
      SETTINGS
          .define(
              "shoplens.gateway.max.question.chars",
              DEFAULTS.maxQuestionChars(),
              Range.between(1, GatewayConfig.MAX_QUESTION_CHARS_LIMIT))
          .doc(
              "Longer questions are refused (400). At most "
                  + GatewayConfig.MAX_QUESTION_CHARS_LIMIT
                  + ": JSON bodies are refused (413) beyond "
                  + GatewayConfig.MAX_JSON_BYTES
                  + " bytes.");

  public static final Setting REQUESTS_PER_MINUTE =
      SETTINGS
          .define(
              "shoplens.gateway.requests.per.minute",
              DEFAULTS.requestsPerMinute(),
              Range.atLeast(0))
          .importance(Importance.MEDIUM)
          .doc(
              "Requests one client (remote address) may make to /v1 per minute on one instance (429"
                  + " beyond); 0 turns the limit off.");

  public static final Setting API_KEY =
      SETTINGS
          .password("shoplens.gateway.api.key")
          .importance(Importance.MEDIUM)
          .doc(
              "When set, /v1 and /metrics requests must send it as X-API-Key or Authorization: Bearer"
                  + " (401 otherwise). Never logged.");

  public static final Setting CORS_ALLOWED_ORIGINS =
      SETTINGS
          .define("shoplens.gateway.cors.allowed.origins", DEFAULTS.corsAllowedOrigins(), null)
          .doc(
              "Origins browsers may call the API from (comma-separated, or *); empty turns CORS off.");

  public static final Setting VIEW_TTL_MS =
      SETTINGS
          .define("shoplens.gateway.view.ttl.ms", DEFAULTS.viewTtl(), Range.atLeast(1))
          .doc(
              "How long an upload's results (and a search's) stay readable after its last event; on start"
                  + " the gateway reads back this far.");

  public static final Setting VIEW_MAX_UPLOADS =
      SETTINGS
          .define("shoplens.gateway.view.max.uploads", DEFAULTS.viewMaxUploads(), Range.atLeast(1))
          .doc(
              "Uploads the in-memory view keeps at most, and searches, counted apart (oldest dropped"
                  + " first).");

  public static final Setting PAGE_ENABLED =
      SETTINGS
          .define("shoplens.gateway.page.enabled", DEFAULTS.pageEnabled())
          .doc("Serve the demo page at /.");

  public static final Setting SEARCH_TIMEOUT_MS =
      SETTINGS
          .define(
              "shoplens.gateway.search.timeout.ms",
              DEFAULTS.searchTimeout(),
              Range.between(0, GatewayConfig.MAX_SEARCH_TIMEOUT.toMillis()))
          .doc(
              "How long POST /v1/search waits for ShopLens's results before it answers 202 with the"
                  + " address to read them from (GET /v1/search/{requestId}); at most "
                  + GatewayConfig.MAX_SEARCH_TIMEOUT.toMillis()
                  + ".");

  private GatewaySettings() {}

  /** The gateway's options from the settings. */
  static GatewayConfig gatewayConfig(ShopLensConfig c) {
    return GatewayConfig.builder()
        .port(c.getInt(PORT.name()))
        .bindAddress(c.getString(BIND_ADDRESS.name()).trim())
        .maxImageBytes(c.getInt(MAX_IMAGE_BYTES.name()))
        .maxQuestionChars(c.getInt(MAX_QUESTION_CHARS.name()))
        .requestsPerMinute(c.getInt(REQUESTS_PER_MINUTE.name()))
        .apiKey(c.getPassword(API_KEY.name()))
        .corsAllowedOrigins(c.listEntries(CORS_ALLOWED_ORIGINS.name()))
        .viewTtl(c.getDuration(VIEW_TTL_MS.name()))
        .viewMaxUploads(c.getInt(VIEW_MAX_UPLOADS.name()))
        .pageEnabled(c.getBoolean(PAGE_ENABLED.name()))
        // The ShopLens behind the gateway reads the same settings: what one accepts, so does the
        // other.
        .answerOptions(TopologySettings.answerOptions(c))
        .captionOptions(TopologySettings.captionOptions(c))
        .maxNewTokensLimit(TopologySettings.maxNewTokensLimit(c))
        // The same search limits as ShopLens's, so that the gateway refuses at the door what the
        // topology would answer with QUERY_TOO_LONG or INVALID_LIMIT; a query longer than a JSON
        // body can carry is refused by the body limit in any case.
        .searchMaxQueryChars(
            Math.min(
                c.getInt(RetrievalSettings.SEARCH_MAX_QUERY_CHARS.name()),
                GatewayConfig.MAX_QUESTION_CHARS_LIMIT))
        .searchMaxLimit(c.getInt(RetrievalSettings.SEARCH_MAX_LIMIT.name()))
        .searchTimeout(c.getDuration(SEARCH_TIMEOUT_MS.name()))
        .build();
  }
}
