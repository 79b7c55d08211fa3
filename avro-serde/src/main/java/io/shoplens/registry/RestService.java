package io.shoplens.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongUnaryOperator;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of the REST client: URLs and fail-over, authentication, retries with backoff, and
 * mapping of error bodies to exceptions. Knows nothing of schemas.
 *
 * <p>Credentials live only in the {@code Authorization} header values held here; URLs are stripped
 * of their user info before they are used, logged or put into a message.
 */
final class RestService {
  private static final Logger log = LoggerFactory.getLogger(RestService.class);

  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  // What Confluent's Java client sends: prefer the versioned type, accept plain JSON.
  static final String ACCEPT =
      "application/vnd.schemaregistry.v1+json,"
          + " application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";
  static final ObjectMapper JSON = new ObjectMapper();

  private static final Pattern USER_INFO_IN_TEXT = Pattern.compile("//[^/@\\s]*@");

  /** Waits between retries; a test replaces it to record the delays instead of sleeping. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(long millis) throws InterruptedException;
  }

  /** One registry URL: where to send, what to show, and its credentials if they came from it. */
  private record Endpoint(String base, String authorization) {}

  private final List<Endpoint> endpoints;
  private final AtomicInteger preferred = new AtomicInteger();
  private final HttpClient http;
  private final Duration requestTimeout;
  private final int maxRetries;
  private final long initialBackoffMs;
  private final long maxBackoffMs;
  private final Sleeper sleeper;
  // Given a bound b >= 1, returns a random value in [0, b); replaced in tests.
  private final LongUnaryOperator random;
  private final String authDescription;

  RestService(SchemaRegistryClientConfig config) {
    this(config, Thread::sleep, b -> ThreadLocalRandom.current().nextLong(b));
  }

  RestService(SchemaRegistryClientConfig config, Sleeper sleeper, LongUnaryOperator random) {
    this.sleeper = Objects.requireNonNull(sleeper);
    this.random = Objects.requireNonNull(random);
    this.maxRetries = config.getInt(SchemaRegistryClientConfig.MAX_RETRIES_CONFIG);
    this.initialBackoffMs = config.getLong(SchemaRegistryClientConfig.RETRIES_WAIT_MS_CONFIG);
    this.maxBackoffMs = config.getLong(SchemaRegistryClientConfig.RETRIES_MAX_WAIT_MS_CONFIG);
    this.requestTimeout =
        Duration.ofMillis(config.getInt(SchemaRegistryClientConfig.HTTP_READ_TIMEOUT_MS_CONFIG));
    this.http =
        HttpClient.newBuilder()
            // HTTP/1.1: registries speak it, and no h2c upgrade dance on every connection.
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(
                Duration.ofMillis(
                    config.getInt(SchemaRegistryClientConfig.HTTP_CONNECT_TIMEOUT_MS_CONFIG)))
            .build();

    List<String> urls = config.urls();
    if (urls.isEmpty()) {
      throw new ConfigException(
          SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG + " must name at least one URL");
    }
    String basicSource =
        config.getString(SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG);
    String bearerSource =
        config.getString(SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG);

    String shared = null;
    String description = "none";
    if ("USER_INFO".equals(basicSource)) {
      String userInfo = config.secret(SchemaRegistryClientConfig.USER_INFO_CONFIG);
      if (userInfo == null || userInfo.isEmpty()) {
        throw new ConfigException(
            SchemaRegistryClientConfig.USER_INFO_CONFIG
                + " must be set when "
                + SchemaRegistryClientConfig.BASIC_AUTH_CREDENTIALS_SOURCE_CONFIG
                + "=USER_INFO");
      }
      shared = basic(userInfo);
      description = "basic (USER_INFO)";
    }
    if ("STATIC_TOKEN".equals(bearerSource)) {
      if (shared != null) {
        throw new ConfigException(
            "Configure either basic (USER_INFO) or bearer authentication, not both");
      }
      String token = config.secret(SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG);
      if (token == null || token.isEmpty()) {
        throw new ConfigException(
            SchemaRegistryClientConfig.BEARER_AUTH_TOKEN_CONFIG
                + " must be set when "
                + SchemaRegistryClientConfig.BEARER_AUTH_CREDENTIALS_SOURCE_CONFIG
                + "=STATIC_TOKEN");
      }
      shared = "Bearer " + token;
      description = "bearer (STATIC_TOKEN)";
    }

    List<Endpoint> list = new ArrayList<>();
    boolean anyUrlCredentials = false;
    for (String url : urls) {
      URI uri = parse(url);
      String auth = shared;
      if (uri.getRawUserInfo() != null) {
        if ("URL".equals(basicSource) && shared == null) {
          auth = basic(URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8));
          anyUrlCredentials = true;
        } else if (shared != null) {
          throw new ConfigException(
              "A schema.registry.url carries user info while "
                  + description
                  + " authentication is configured; keep one: "
                  + redact(url));
        }
      }
      list.add(new Endpoint(withoutUserInfo(uri), auth));
    }
    this.endpoints = List.copyOf(list);
    this.authDescription = anyUrlCredentials ? "basic (URL)" : description;
  }

  /** Whether Confluent's client retries a response with this status. */
  static boolean isRetriableStatus(int status) {
    return status == 408
        || status == 429
        || status == 500
        || status == 502
        || status == 503
        || status == 504;
  }

  /** Replaces the user info of any URL in {@code text} with {@code ***}. */
  static String redact(String text) {
    return text == null ? null : USER_INFO_IN_TEXT.matcher(text).replaceAll("//***@");
  }

  /** Percent-encodes one path segment (a subject name). */
  static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The base URLs without credentials, in configured order. */
  List<String> urls() {
    return endpoints.stream().map(Endpoint::base).toList();
  }

  /** Which authentication is in use, without any secret. */
  String authDescription() {
    return authDescription;
  }

  /**
   * The backoff before retry number {@code retry} (0 for the first): exponential from {@code
   * retries.wait.ms}, capped at {@code retries.max.wait.ms}, then jittered into [cap/2, cap] so
   * that many clients do not retry in step.
   */
  long backoffMs(int retry) {
    long cap = initialBackoffMs;
    for (int i = 0; i < retry && cap < maxBackoffMs; i++) {
      cap = cap * 2;
    }
    cap = Math.min(cap, maxBackoffMs);
    long half = cap / 2;
    return half + random.applyAsLong(cap - half + 1);
  }

  /**
   * Sends one request, with retries and fail-over.
   *
   * @param method the HTTP method
   * @param pathAndQuery starts with '/', segments already encoded
   * @param body the JSON body, or null
   * @return the parsed JSON response (a null node when the body was empty)
   * @throws RestClientException for an error response that is not retriable, or for the last
   *     retriable one when every URL kept answering it
   * @throws SchemaRegistryUnavailableException when the last failure was an I/O error
   */
  JsonNode send(String method, String pathAndQuery, String body)
      throws IOException, RestClientException {
    int start = preferred.get();
    Exception last = null;
    for (int u = 0; u < endpoints.size(); u++) {
      int index = (start + u) % endpoints.size();
      Endpoint endpoint = endpoints.get(index);
      for (int attempt = 0; attempt <= maxRetries; attempt++) {
        if (attempt > 0) {
          pause(backoffMs(attempt - 1));
        }
        try {
          JsonNode result = sendOnce(endpoint, method, pathAndQuery, body);
          if (index != start) {
            // Later requests go straight to the URL that answered.
            preferred.compareAndSet(start, index);
          }
          return result;
        } catch (RestClientException e) {
          if (!e.isRetriable()) {
            throw e;
          }
          last = e;
        } catch (InterruptedIOException e) {
          throw e;
        } catch (IOException e) {
          last = e;
        }
        log.debug(
            "{} {}{} failed (attempt {} of {}): {}",
            method,
            endpoint.base(),
            pathAndQuery,
            attempt + 1,
            maxRetries + 1,
            redact(String.valueOf(last.getMessage())));
      }
      if (endpoints.size() > 1) {
        log.warn(
            "Schema Registry {} failed {} times; failing over to the next URL",
            endpoint.base(),
            maxRetries + 1);
      }
    }
    if (last instanceof RestClientException rce) {
      throw rce;
    }
    throw new SchemaRegistryUnavailableException(
        "Schema Registry unreachable: "
            + method
            + " "
            + pathAndQuery
            + " failed "
            + (maxRetries + 1)
            + " time(s) on each of "
            + urls()
            + "; last error: "
            + last.getClass().getSimpleName()
            + ": "
            + redact(String.valueOf(last.getMessage())),
        last);
  }

  private void pause(long millis) throws InterruptedIOException {
    try {
      sleeper.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted while waiting to retry a registry request");
    }
  }

  private JsonNode sendOnce(Endpoint endpoint, String method, String pathAndQuery, String body)
      throws IOException, RestClientException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(endpoint.base() + pathAndQuery))
            .timeout(requestTimeout)
            .header("Accept", ACCEPT);
    if (endpoint.authorization() != null) {
      request.header("Authorization", endpoint.authorization());
    }
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request
          .header("Content-Type", CONTENT_TYPE)
          .method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    }
    HttpResponse<String> response;
    try {
      response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("Interrupted during a registry request");
    }
    int status = response.statusCode();
    String text = response.body();
    if (status >= 200 && status < 300) {
      if (text == null || text.isBlank()) {
        return JSON.nullNode();
      }
      try {
        return JSON.readTree(text);
      } catch (IOException e) {
        throw new RestClientException(
            "Unparseable response from " + endpoint.base() + pathAndQuery, status, 50005);
      }
    }
    throw error(endpoint, method, pathAndQuery, status, text);
  }

  private static RestClientException error(
      Endpoint endpoint, String method, String pathAndQuery, int status, String text) {
    int errorCode = status;
    String message = null;
    try {
      JsonNode node = text == null || text.isBlank() ? null : JSON.readTree(text);
      if (node != null && node.isObject()) {
        if (node.hasNonNull("error_code")) {
          errorCode = node.get("error_code").asInt(status);
        }
        if (node.hasNonNull("message")) {
          message = node.get("message").asText();
        }
      }
    } catch (IOException e) {
      // Not JSON (a proxy's HTML page, say): fall through to quoting the start of the body.
    }
    if (message == null) {
      message =
          text == null || text.isBlank()
              ? "(empty body)"
              : text.substring(0, Math.min(200, text.length()));
    }
    return RestClientException.of(
        redact(message)
            + " (HTTP "
            + status
            + ", error code "
            + errorCode
            + ") on "
            + method
            + " "
            + endpoint.base()
            + pathAndQuery,
        status,
        errorCode);
  }

  private static String basic(String userInfo) {
    return "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
  }

  private static URI parse(String url) {
    try {
      URI uri = new URI(url);
      if (uri.getScheme() == null
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
          || uri.getHost() == null) {
        throw new ConfigException(
            "Invalid "
                + SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG
                + " entry '"
                + redact(url)
                + "': expected http(s)://host[:port][/path]");
      }
      return uri;
    } catch (URISyntaxException e) {
      // The parser's message quotes the input, credentials included: leave it out.
      throw new ConfigException(
          "Invalid "
              + SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG
              + " entry '"
              + redact(url)
              + "'");
    }
  }

  private static String withoutUserInfo(URI uri) {
    StringBuilder s =
        new StringBuilder(uri.getScheme()).append("://").append(uri.getRawAuthority());
    int at = s.indexOf("@");
    if (at >= 0) {
      s.delete(uri.getScheme().length() + 3, at + 1);
    }
    String path = uri.getRawPath();
    if (path != null) {
      s.append(path);
    }
    while (s.charAt(s.length() - 1) == '/') {
      s.setLength(s.length() - 1);
    }
    return s.toString();
  }
}
