package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.app.gateway.ApiError.unknownUpload;
import static io.shoplens.processor.app.gateway.RequestParsing.ID;
import static io.shoplens.processor.app.gateway.RequestParsing.formField;
import static io.shoplens.processor.app.gateway.RequestParsing.json;
import static io.shoplens.processor.app.gateway.RequestParsing.pathId;
import static io.shoplens.processor.app.gateway.RequestParsing.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.ContentType;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.UploadedFile;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.topology.QuestionDecoding;
import io.shoplens.processor.topology.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storefront's HTTP API on Javalin: uploads, questions and product searches in, results out
 * (JSON and Server-Sent Events), the OpenAPI document, health, metrics and, when enabled, the demo
 * page.
 *
 * <p>Uploads and questions are published with the same serdes and topics as any storefront ({@link
 * Topics}, key = uploadId). Results come from a {@link ResultsView} fed by a {@link ResultsFeed}
 * that reads every partition of the output topics, so every instance can answer every client:
 * instances behind a load balancer need neither stickiness nor each other. A search (key =
 * requestId) is answered with its results when they arrive within the search timeout; the request's
 * thread is not held meanwhile.
 *
 * <p>Every refusal is a 4xx with a JSON body {@code {"code": ..., "message": ...}} and is decided
 * before anything is published. The API key is compared in constant time and never logged.
 *
 * <p>This class wires the routes, filters and error mapping and handles uploads and questions;
 * {@link SearchEndpoints} handles searches, {@link ResultsStream} the event stream, {@link
 * RequestParsing} reads ids and bodies, {@link GatewayCounters} counts what was published and
 * refused.
 */
public final class GatewayServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where the OpenAPI document and the demo page live on the class path. */
  static final String RESOURCES = "/io/shoplens/processor/app/gateway";

  private final GatewayConfig config;
  private final Topics topics;
  private final ResultsView view;
  private final SearchView searches;
  private final ResultsFeed feed;
  private final EventPublisher publisher;
  private final ClientRateLimiter limiter;
  private final PrometheusMeterRegistry metrics;
  private final GatewayCounters counters;
  private final SearchEndpoints searchEndpoints;
  private final ResultsStream resultsStream;
  private final List<String> routes = new ArrayList<>();
  private final byte[] openApi;
  private final byte[] apiKey;
  private final List<AutoCloseable> meters = new ArrayList<>();
  private Javalin app;

  private GatewayServer(GatewayConfig config, Map<String, Object> clientProps, Clock clock) {
    this.config = config;
    this.topics = Topics.create(clientProps);
    this.view = new ResultsView(clock, config.viewTtl(), config.viewMaxUploads());
    this.searches = new SearchView(clock, config.viewTtl(), config.viewMaxUploads());
    this.limiter = new ClientRateLimiter(config.requestsPerMinute(), clock);
    this.apiKey =
        config.apiKey() == null ? null : config.apiKey().value().getBytes(StandardCharsets.UTF_8);
    this.openApi = resource("openapi.json");
    this.metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.publisher = new EventPublisher(clientProps);
    this.feed = new ResultsFeed(clientProps, topics, view, searches, clock, config.viewTtl());
    this.counters = new GatewayCounters(metrics);
    this.searchEndpoints =
        new SearchEndpoints(config, topics, view, searches, feed, publisher, counters);
    this.resultsStream = new ResultsStream(view);
  }

  /**
   * Starts the feed and the HTTP server.
   *
   * @param clientProps Kafka client and serde settings: bootstrap servers, security, the registry
   * @throws UncheckedIOException if the port cannot be bound
   */
  public static GatewayServer start(GatewayConfig config, Map<String, Object> clientProps) {
    GatewayServer server = new GatewayServer(config, clientProps, Clock.systemUTC());
    try {
      server.startHttp();
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** The bound port. */
  public int port() {
    return app.port();
  }

  /** Every route as {@code METHOD path}, as registered (the OpenAPI test compares them). */
  public List<String> routes() {
    return List.copyOf(routes);
  }

  /** Ready: the view is being fed from every output partition. */
  public boolean ready() {
    return feed.assigned();
  }

  private void startHttp() {
    KafkaClientMetrics producerMetrics = new KafkaClientMetrics(publisher.producer());
    producerMetrics.bindTo(metrics);
    meters.add(producerMetrics);
    new JvmMemoryMetrics().bindTo(metrics);
    Gauge.builder("shoplens.gateway.view.uploads", view, ResultsView::size)
        .description("uploads in this instance's view")
        .register(metrics);
    feed.start();

    long maxBody = maxBody();
    app =
        Javalin.create(
            c -> {
              c.showJavalinBanner = false;
              c.http.maxRequestSize = maxBody;
              c.jetty.multipartConfig.maxFileSize(maxBody, io.javalin.config.SizeUnit.BYTES);
              c.jetty.multipartConfig.maxTotalRequestSize(
                  maxBody, io.javalin.config.SizeUnit.BYTES);
              c.jetty.multipartConfig.maxInMemoryFileSize(
                  (int) Math.min(Integer.MAX_VALUE, maxBody), io.javalin.config.SizeUnit.BYTES);
              c.events.handlerAdded(
                  h -> {
                    String m = h.getHttpMethod().name();
                    if (!m.equals("BEFORE") && !m.equals("AFTER") && !m.equals("HEAD")) {
                      routes.add(m + " " + h.getPath());
                    }
                  });
              if (!config.corsAllowedOrigins().isEmpty()) {
                c.bundledPlugins.enableCors(
                    cors ->
                        cors.addRule(
                            rule -> {
                              if (config.corsAllowedOrigins().contains("*")) {
                                rule.anyHost();
                              } else {
                                List<String> origins = config.corsAllowedOrigins();
                                rule.allowHost(
                                    origins.get(0),
                                    origins.subList(1, origins.size()).toArray(String[]::new));
                              }
                            }));
              }
              if (config.pageEnabled()) {
                c.staticFiles.add(
                    s -> {
                      s.hostedPath = "/";
                      s.directory = RESOURCES + "/page";
                      s.location = io.javalin.http.staticfiles.Location.CLASSPATH;
                    });
              }
            });
    app.before("/v1/*", this::authenticateAndLimit);
    // Metrics tell about load and traffic: with an API key, scrapes send it too (Prometheus:
    // authorization.credentials). Health stays open for probes; it says only live and ready.
    app.before("/metrics", this::authenticate);
    app.post("/v1/uploads", this::upload);
    app.post("/v1/uploads/{id}/questions", this::ask);
    app.get("/v1/uploads/{id}", this::getUpload);
    app.get("/v1/uploads/{id}/events", resultsStream::events);
    app.get("/v1/questions/{id}", this::getQuestion);
    app.post("/v1/search", searchEndpoints::search);
    app.get("/v1/search/{id}", searchEndpoints::getSearch);
    app.get("/openapi.json", ctx -> ctx.contentType(ContentType.APPLICATION_JSON).result(openApi));
    app.get("/health/live", ctx -> health(ctx, feed.alive()));
    app.get("/health/ready", ctx -> health(ctx, ready()));
    app.get(
        "/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4").result(metrics.scrape()));
    app.exception(ApiError.class, (e, ctx) -> refuse(ctx, e.status(), e.code(), e.getMessage()));
    app.exception(
        HttpResponseException.class,
        (e, ctx) ->
            refuse(
                ctx,
                e.getStatus(),
                e.getStatus() == 404 ? "not_found" : "http_" + e.getStatus(),
                e.getMessage()));
    app.exception(
        Exception.class,
        (e, ctx) -> {
          LOG.error("gateway request {} {} failed", ctx.method(), ctx.endpointHandlerPath(), e);
          refuse(ctx, 500, "internal", "internal error; the request was not completed");
        });
    app.error(404, ctx -> notFound(ctx));
    app.start(config.bindAddress(), config.port());
    LOG.info(
        "gateway on {}:{} (API key {}, CORS {}, page {})",
        config.bindAddress(),
        port(),
        apiKey == null ? "off" : "required",
        config.corsAllowedOrigins().isEmpty() ? "off" : config.corsAllowedOrigins(),
        config.pageEnabled() ? "on" : "off");
  }

  // --- filters ------------------------------------------------------------------------------

  private void authenticateAndLimit(Context ctx) {
    if (ctx.method().name().equals("OPTIONS")) {
      return; // CORS preflights carry no credentials
    }
    authenticate(ctx);
    if (!limiter.tryAcquire(ctx.ip())) {
      ctx.header("Retry-After", "60");
      throw new ApiError(
          429,
          "too_many_requests",
          "more than " + config.requestsPerMinute() + " requests this minute; retry after 60 s");
    }
  }

  /** When the gateway has an API key, the request must present it; the key is never logged. */
  private void authenticate(Context ctx) {
    String presented = null;
    if (apiKey != null) {
      presented = ctx.header("X-API-Key");
      String auth = ctx.header("Authorization");
      if (presented == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
        presented = auth.substring(7).trim();
      }
      if (presented == null
          || !MessageDigest.isEqual(apiKey, presented.getBytes(StandardCharsets.UTF_8))) {
        ctx.header("WWW-Authenticate", "Bearer");
        throw new ApiError(
            401,
            "unauthorized",
            presented == null
                ? "this gateway needs an API key: send X-API-Key or Authorization: Bearer"
                : "the API key is not valid");
      }
    }
  }

  // --- routes -------------------------------------------------------------------------------

  private void upload(Context ctx) throws IOException {
    String contentType = Optional.ofNullable(ctx.contentType()).orElse("");
    ImageUploaded event;
    String uploadId = UUID.randomUUID().toString();
    if (contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
      checkLength(ctx);
      UploadedFile file = ctx.uploadedFile("image");
      if (file == null) {
        throw new ApiError(400, "missing_image", "send the photo as the multipart field 'image'");
      }
      if (file.size() > config.maxImageBytes()) {
        throw tooLarge(file.size());
      }
      byte[] bytes;
      try (InputStream in = file.content()) {
        bytes = in.readAllBytes();
      }
      String type = imageType(bytes);
      GenerationOptions caption = captionOptions(captionOptionsField(ctx));
      event =
          InputEvents.inlineUpload(
              uploadId, formField(ctx, "userId", "web"), ctx.formParam("productId"), bytes, type);
      event.setCaptionOptions(caption);
    } else if (contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      JsonNode body = json(ctx);
      String url = text(body, "imageUrl");
      if (url == null) {
        throw new ApiError(
            400, "missing_image", "send a multipart 'image' file, or JSON with 'imageUrl'");
      }
      event = referenceUpload(uploadId, body, url);
      event.setCaptionOptions(captionOptions(body.get(GenerationOptionsJson.Field.CAPTION.json)));
    } else {
      throw new ApiError(
          415,
          "unsupported_media_type",
          "send multipart/form-data with an 'image' file, or application/json with 'imageUrl'");
    }
    publisher.publish(topics.imageUploads(), uploadId, event);
    view.uploadAccepted(uploadId);
    counters.published("uploads");
    ObjectNode out = JSON.createObjectNode();
    out.put("uploadId", uploadId);
    out.put("events", "/v1/uploads/" + uploadId + "/events");
    ctx.status(201).header("Location", "/v1/uploads/" + uploadId).json(out);
  }

  private long maxBody() {
    return config.maxImageBytes() + 64 * 1024L;
  }

  private ImageUploaded referenceUpload(String uploadId, JsonNode body, String url) {
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new ApiError(400, "invalid_image_url", "imageUrl is not a URI: " + e.getMessage());
    }
    if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
      throw new ApiError(400, "invalid_image_url", "imageUrl must be an http(s) URL");
    }
    // ShopLens checks a reference's digest and size when it fetches it (from allow-listed hosts
    // only); the gateway does not fetch, so the client states them.
    String sha256 = text(body, "sha256");
    JsonNode size = body.get("sizeBytes");
    String type = text(body, "contentType");
    if (sha256 == null
        || !sha256.matches("[0-9a-f]{64}")
        || size == null
        || !size.canConvertToLong()
        || type == null
        || !type.startsWith("image/")) {
      throw new ApiError(
          400,
          "invalid_image_reference",
          "a URL upload also needs sha256 (64 lowercase hex), sizeBytes and contentType image/*");
    }
    if (size.asLong() > config.maxImageBytes() || size.asLong() < 1) {
      throw tooLarge(size.asLong());
    }
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId(Optional.ofNullable(text(body, "userId")).orElse("web"))
        .setProductId(text(body, "productId"))
        .setImage(
            ImageReference.newBuilder()
                .setUri(uri.toString())
                .setSha256(sha256)
                .setContentType(type)
                .setSizeBytes(size.asLong())
                .build())
        .setUploadedAt(Instant.now())
        .build();
  }

  private void ask(Context ctx) {
    String uploadId = pathId(ctx);
    JsonNode body = json(ctx);
    String text = text(body, "text");
    if (text == null || text.isBlank()) {
      throw new ApiError(400, "missing_text", "send JSON with the question as 'text'");
    }
    if (text.length() > config.maxQuestionChars()) {
      throw new ApiError(
          400,
          "question_too_long",
          "a question may have at most "
              + config.maxQuestionChars()
              + " characters, this one has "
              + text.length());
    }
    if (!view.knows(uploadId)) {
      throw unknownUpload(uploadId);
    }
    String conversationId = text(body, "conversationId");
    if (conversationId != null && !ID.matcher(conversationId).matches()) {
      throw new ApiError(
          400, "invalid_conversation_id", "conversationId must match " + ID.pattern());
    }
    GenerationOptions options = generationOptions(body);
    String questionId = UUID.randomUUID().toString();
    QuestionAsked event =
        InputEvents.question(
            questionId,
            uploadId,
            Optional.ofNullable(text(body, "userId")).orElse("web"),
            conversationId,
            text);
    event.setGenerationOptions(options);
    publisher.publish(topics.questions(), uploadId, event);
    view.questionAsked(questionId, uploadId, text);
    counters.published("questions");
    ObjectNode out = JSON.createObjectNode();
    out.put("questionId", questionId);
    out.put("uploadId", uploadId);
    out.put("conversationId", conversationId);
    ctx.status(202).header("Location", "/v1/questions/" + questionId).json(out);
  }

  /**
   * The question's generation options, checked by the rule the topology applies, against the same
   * answer defaults and token limit: a question accepted here is not dead-lettered for them there.
   */
  private GenerationOptions generationOptions(JsonNode body) {
    GenerationOptionsJson.Field field = GenerationOptionsJson.Field.QUESTION;
    return checked(field, config.answerOptions(), body.get(field.json));
  }

  /**
   * An upload's caption options, checked as ShopLens checks them (against its caption defaults and
   * the same token limit as questions) so that an upload accepted here is not dead-lettered for
   * them there.
   */
  private GenerationOptions captionOptions(JsonNode node) {
    return checked(GenerationOptionsJson.Field.CAPTION, config.captionOptions(), node);
  }

  private GenerationOptions checked(
      GenerationOptionsJson.Field field, DecodingOptions defaults, JsonNode node) {
    GenerationOptions options = GenerationOptionsJson.parse(field, node);
    try {
      QuestionDecoding.resolve(defaults, config.maxNewTokensLimit(), options);
    } catch (IllegalArgumentException e) {
      throw field.refused(field.json + ": " + e.getMessage());
    }
    return options;
  }

  /**
   * A multipart upload's {@code captionOptions} form field: the same JSON object as a URL upload's,
   * as text (a form field cannot carry an object).
   */
  private static JsonNode captionOptionsField(Context ctx) {
    GenerationOptionsJson.Field field = GenerationOptionsJson.Field.CAPTION;
    String text = ctx.formParam(field.json);
    if (text == null || text.isBlank()) {
      return null;
    }
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw field.refused(
          field.json
              + ": expected a JSON object such as {\"strategy\": \"beam\", \"numBeams\": 5}, got"
              + " text that is not JSON");
    }
  }

  private void getUpload(Context ctx) {
    String uploadId = pathId(ctx);
    ctx.json(view.snapshot(uploadId).orElseThrow(() -> unknownUpload(uploadId)));
  }

  private void getQuestion(Context ctx) {
    String questionId = pathId(ctx);
    ctx.json(
        view.question(questionId)
            .orElseThrow(
                () ->
                    new ApiError(
                        404, "unknown_question", "no question " + questionId + " is known here")));
  }

  private void health(Context ctx, boolean ok) {
    ObjectNode out = JSON.createObjectNode();
    out.put("live", feed.alive());
    out.put("ready", ready());
    out.put("viewUploads", view.size());
    ctx.status(ok ? 200 : 503).json(out);
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * A multipart upload must declare its length, and within the limit, before it is parsed. Jetty's
   * parser also stops at a limit, but Javalin keeps that setting once per JVM, not per server;
   * browsers and curl always send a Content-Length with a file.
   */
  private void checkLength(Context ctx) {
    long length = ctx.contentLength();
    if (length < 0) {
      throw new ApiError(
          411, "length_required", "send the upload with a Content-Length (not chunked)");
    }
    if (length > maxBody()) {
      throw tooLarge(length);
    }
  }

  private String imageType(byte[] bytes) {
    if (bytes.length == 0) {
      throw new ApiError(400, "empty_image", "the uploaded file is empty");
    }
    return ImageTypes.sniff(bytes)
        .orElseThrow(
            () ->
                new ApiError(
                    415,
                    "not_an_image",
                    "the file is not a JPEG, PNG, GIF, WebP or BMP image (checked from its"
                        + " bytes)"));
  }

  private ApiError tooLarge(long size) {
    return new ApiError(
        413,
        "image_too_large",
        "images may have at most " + config.maxImageBytes() + " bytes, this one has " + size);
  }

  private void refuse(Context ctx, int status, String code, String message) {
    ctx.status(status).json(counters.refusal(code, message));
  }

  private void notFound(Context ctx) {
    if (ctx.result() == null || ctx.result().isEmpty()) {
      refuse(ctx, 404, "not_found", "no such endpoint: " + ctx.method() + " " + ctx.path());
    }
  }

  private static byte[] resource(String name) {
    try (InputStream in = GatewayServer.class.getResourceAsStream(RESOURCES + "/" + name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the class path");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (app != null) {
      app.stop();
    }
    feed.close();
    publisher.close();
    for (AutoCloseable m : meters) {
      try {
        m.close();
      } catch (Exception e) {
        LOG.debug("closing meters", e);
      }
    }
    metrics.close();
  }
}
