package io.shoplens.processor.app.config;

import io.shoplens.processor.app.gateway.GatewayConfig;
import java.time.Duration;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The gateway group ({@code shoplens gateway}): its port, request limits, API key, CORS and view.
 * Defaults come from {@link GatewayConfig#defaults()}.
 */
public final class GatewaySettings {
  public static final String GROUP = "Gateway";
  private static final GatewayConfig DEFAULTS = GatewayConfig.defaults();

  public static final String PORT_CONFIG = "shoplens.gateway.port";
  public static final String PORT_DOC =
      "Port of the gateway's HTTP API, page, health and metrics; 0 picks a free port.";

  public static final String BIND_ADDRESS_CONFIG = "shoplens.gateway.bind.address";
  public static final String BIND_ADDRESS_DOC =
      "Address the gateway listens on: 0.0.0.0 (every interface, behind a load balancer that"
          + " terminates TLS) or 127.0.0.1 (this machine only).";

  public static final String MAX_IMAGE_BYTES_CONFIG = "shoplens.gateway.max.image.bytes";
  public static final String MAX_IMAGE_BYTES_DOC =
      "Larger uploads are refused (413) before anything is published.";

  public static final String MAX_QUESTION_CHARS_CONFIG = "shoplens.gateway.max.question.chars";
  public static final String MAX_QUESTION_CHARS_DOC =
      "Longer questions are refused (400). At most "
          + GatewayConfig.MAX_QUESTION_CHARS_LIMIT
          + ": JSON bodies are refused (413) beyond "
          + GatewayConfig.MAX_JSON_BYTES
          + " bytes.";

  public static final String REQUESTS_PER_MINUTE_CONFIG = "shoplens.gateway.requests.per.minute";
  public static final String REQUESTS_PER_MINUTE_DOC =
      "Requests one client (remote address) may make to /v1 per minute on one instance (429"
          + " beyond); 0 turns the limit off.";

  public static final String API_KEY_CONFIG = "shoplens.gateway.api.key";
  public static final String API_KEY_DOC =
      "When set, /v1 and /metrics requests must send it as X-API-Key or Authorization: Bearer"
          + " (401 otherwise). Never logged.";

  public static final String CORS_ALLOWED_ORIGINS_CONFIG = "shoplens.gateway.cors.allowed.origins";
  public static final String CORS_ALLOWED_ORIGINS_DOC =
      "Origins browsers may call the API from (comma-separated, or *); empty turns CORS off.";

  public static final String VIEW_TTL_MS_CONFIG = "shoplens.gateway.view.ttl.ms";
  public static final String VIEW_TTL_MS_DOC =
      "How long an upload's results (and a search's) stay readable after its last event; on start"
          + " the gateway reads back this far.";

  public static final String VIEW_MAX_UPLOADS_CONFIG = "shoplens.gateway.view.max.uploads";
  public static final String VIEW_MAX_UPLOADS_DOC =
      "Uploads the in-memory view keeps at most, and searches, counted apart (oldest dropped"
          + " first).";

  public static final String PAGE_ENABLED_CONFIG = "shoplens.gateway.page.enabled";
  public static final String PAGE_ENABLED_DOC = "Serve the demo page at /.";

  public static final String SEARCH_TIMEOUT_MS_CONFIG = "shoplens.gateway.search.timeout.ms";
  public static final String SEARCH_TIMEOUT_MS_DOC =
      "How long POST /v1/search waits for ShopLens's results before it answers 202 with the"
          + " address to read them from (GET /v1/search/{requestId}); at most "
          + GatewayConfig.MAX_SEARCH_TIMEOUT.toMillis()
          + ".";

  private GatewaySettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            PORT_CONFIG,
            Type.INT,
            DEFAULTS.port(),
            Range.between(0, 65535),
            Importance.MEDIUM,
            PORT_DOC)
        .define(
            BIND_ADDRESS_CONFIG,
            Type.STRING,
            DEFAULTS.bindAddress(),
            new ConfigDef.NonEmptyStringWithoutControlChars(),
            Importance.MEDIUM,
            BIND_ADDRESS_DOC)
        .define(
            MAX_IMAGE_BYTES_CONFIG,
            Type.INT,
            DEFAULTS.maxImageBytes(),
            Range.atLeast(1),
            Importance.MEDIUM,
            MAX_IMAGE_BYTES_DOC)
        .define(
            MAX_QUESTION_CHARS_CONFIG,
            Type.INT,
            DEFAULTS.maxQuestionChars(),
            Range.between(1, GatewayConfig.MAX_QUESTION_CHARS_LIMIT),
            Importance.LOW,
            MAX_QUESTION_CHARS_DOC)
        .define(
            REQUESTS_PER_MINUTE_CONFIG,
            Type.INT,
            DEFAULTS.requestsPerMinute(),
            Range.atLeast(0),
            Importance.MEDIUM,
            REQUESTS_PER_MINUTE_DOC)
        .define(API_KEY_CONFIG, Type.PASSWORD, null, null, Importance.MEDIUM, API_KEY_DOC)
        .define(
            CORS_ALLOWED_ORIGINS_CONFIG,
            Type.LIST,
            String.join(",", DEFAULTS.corsAllowedOrigins()),
            null,
            Importance.LOW,
            CORS_ALLOWED_ORIGINS_DOC)
        .define(
            VIEW_TTL_MS_CONFIG,
            Type.LONG,
            DEFAULTS.viewTtl().toMillis(),
            Range.atLeast(1),
            Importance.LOW,
            VIEW_TTL_MS_DOC)
        .define(
            VIEW_MAX_UPLOADS_CONFIG,
            Type.INT,
            DEFAULTS.viewMaxUploads(),
            Range.atLeast(1),
            Importance.LOW,
            VIEW_MAX_UPLOADS_DOC)
        .define(
            PAGE_ENABLED_CONFIG,
            Type.BOOLEAN,
            DEFAULTS.pageEnabled(),
            null,
            Importance.LOW,
            PAGE_ENABLED_DOC)
        .define(
            SEARCH_TIMEOUT_MS_CONFIG,
            Type.LONG,
            DEFAULTS.searchTimeout().toMillis(),
            Range.between(0, GatewayConfig.MAX_SEARCH_TIMEOUT.toMillis()),
            Importance.LOW,
            SEARCH_TIMEOUT_MS_DOC);
  }

  /** The gateway's options from the settings. */
  static GatewayConfig gatewayConfig(ShopLensConfig c) {
    return GatewayConfig.builder()
        .port(c.getInt(PORT_CONFIG))
        .bindAddress(c.getString(BIND_ADDRESS_CONFIG).trim())
        .maxImageBytes(c.getInt(MAX_IMAGE_BYTES_CONFIG))
        .maxQuestionChars(c.getInt(MAX_QUESTION_CHARS_CONFIG))
        .requestsPerMinute(c.getInt(REQUESTS_PER_MINUTE_CONFIG))
        .apiKey(c.getPassword(API_KEY_CONFIG))
        .corsAllowedOrigins(c.listEntries(CORS_ALLOWED_ORIGINS_CONFIG))
        .viewTtl(Duration.ofMillis(c.getLong(VIEW_TTL_MS_CONFIG)))
        .viewMaxUploads(c.getInt(VIEW_MAX_UPLOADS_CONFIG))
        .pageEnabled(c.getBoolean(PAGE_ENABLED_CONFIG))
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
                c.getInt(RetrievalSettings.SEARCH_MAX_QUERY_CHARS_CONFIG),
                GatewayConfig.MAX_QUESTION_CHARS_LIMIT))
        .searchMaxLimit(c.getInt(RetrievalSettings.SEARCH_MAX_LIMIT_CONFIG))
        .searchTimeout(Duration.ofMillis(c.getLong(SEARCH_TIMEOUT_MS_CONFIG)))
        .build();
  }
}
