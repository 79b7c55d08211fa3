package io.shoplens.processor.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.registry.RestClientException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/**
 * A {@code mock://} registry scope served over the part of Confluent's REST API that the ShopLens
 * client calls from a serde (register, look up a schema under a subject, a schema by id), on
 * 127.0.0.1 behind HTTP basic authentication, with an outage switch: while {@linkplain
 * #outage(boolean) out}, every request is answered 503, which the client retries and the serdes
 * then report as retriable. For {@link MultiInstanceFaultIT}, whose instances run in other JVMs.
 */
final class RegistryHttpServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  private final MockSchemaRegistryClient registry;
  private final byte[] expectedAuthorization;
  private final HttpServer server;
  private volatile boolean out;
  private final AtomicInteger served = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger unauthorized = new AtomicInteger();

  /**
   * @param registry what to serve
   * @param userInfo {@code user:password} every request must present
   */
  RegistryHttpServer(MockSchemaRegistryClient registry, String userInfo) throws IOException {
    this.registry = registry;
    this.expectedAuthorization =
        ("Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8)))
            .getBytes(StandardCharsets.UTF_8);
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Starts ({@code true}) or ends an outage: meanwhile every request gets 503. */
  void outage(boolean out) {
    this.out = out;
  }

  /** Requests answered normally so far. */
  int served() {
    return served.get();
  }

  /** Requests answered 503 during outages so far. */
  int refused() {
    return refused.get();
  }

  /** Requests without the right credentials so far. */
  int unauthorized() {
    return unauthorized.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body = exchange.getRequestBody().readAllBytes();
      if (out) {
        refused.incrementAndGet();
        error(exchange, 503, 50003, "registry outage (fault test)");
        return;
      }
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      if (auth == null
          || !MessageDigest.isEqual(auth.getBytes(StandardCharsets.UTF_8), expectedAuthorization)) {
        unauthorized.incrementAndGet();
        error(exchange, 401, 40101, "Unauthorized");
        return;
      }
      try {
        JsonNode reply = route(exchange.getRequestMethod(), exchange.getRequestURI(), body);
        if (reply == null) {
          error(exchange, 404, 404, "not served here: " + exchange.getRequestURI().getPath());
          return;
        }
        served.incrementAndGet();
        send(exchange, 200, reply.toString());
      } catch (RestClientException e) {
        error(exchange, e.status(), e.errorCode(), e.getMessage());
      }
    }
  }

  private JsonNode route(String method, java.net.URI uri, byte[] body)
      throws IOException, RestClientException {
    String[] parts = uri.getRawPath().split("/");
    // "", "subjects", "{subject}" [, "versions"]  or  "", "schemas", "ids", "{id}"
    if (method.equals("POST") && parts.length >= 3 && parts[1].equals("subjects")) {
      String subject = URLDecoder.decode(parts[2], StandardCharsets.UTF_8);
      Schema schema = new Schema.Parser().parse(JSON.readTree(body).path("schema").asText());
      if (parts.length == 4 && parts[3].equals("versions")) {
        return JSON.createObjectNode().put("id", registry.register(subject, schema));
      }
      if (parts.length == 3) {
        return JSON.createObjectNode()
            .put("subject", subject)
            .put("id", registry.getId(subject, schema))
            .put("version", registry.getVersion(subject, schema))
            .put("schema", schema.toString());
      }
    }
    if (method.equals("GET")
        && parts.length == 4
        && parts[1].equals("schemas")
        && parts[2].equals("ids")) {
      int id = Integer.parseInt(parts[3]);
      String subject = null;
      String query = uri.getRawQuery();
      if (query != null && query.startsWith("subject=")) {
        subject = URLDecoder.decode(query.substring(8).split("&")[0], StandardCharsets.UTF_8);
      }
      ObjectNode node = JSON.createObjectNode();
      node.put("schema", registry.getSchemaBySubjectAndId(subject, id).toString());
      node.put("guid", registry.getGuid(id));
      return node;
    }
    return null;
  }

  private static void error(HttpExchange exchange, int status, int code, String message)
      throws IOException {
    send(
        exchange,
        status,
        JSON.createObjectNode().put("error_code", code).put("message", message).toString());
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", CONTENT_TYPE);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream o = exchange.getResponseBody()) {
      o.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
