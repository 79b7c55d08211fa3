package io.shoplens.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A scripted HTTP server on 127.0.0.1 standing in for a Schema Registry: records every request and
 * answers from a queue of responses (the last one repeats).
 */
final class FakeRegistryServer implements AutoCloseable {

  /** One request as the server saw it. */
  record Request(
      String method, String pathAndQuery, Map<String, List<String>> headers, String body) {
    String header(String name) {
      // The server normalizes header case; match as HTTP does, ignoring it.
      return headers.entrySet().stream()
          .filter(e -> e.getKey().equalsIgnoreCase(name))
          .map(e -> String.join(",", e.getValue()))
          .findFirst()
          .orElse(null);
    }
  }

  /** One scripted response. */
  record Response(int status, String contentType, String body) {}

  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final Deque<Response> script = new ArrayDeque<>();

  FakeRegistryServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Queues a JSON response. */
  FakeRegistryServer respond(int status, String json) {
    synchronized (script) {
      script.add(new Response(status, RestService.CONTENT_TYPE, json));
    }
    return this;
  }

  /** Queues a response with any content type. */
  FakeRegistryServer respondRaw(int status, String contentType, String body) {
    synchronized (script) {
      script.add(new Response(status, contentType, body));
    }
    return this;
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  int port() {
    return server.getAddress().getPort();
  }

  List<Request> requests() {
    return List.copyOf(requests);
  }

  Request onlyRequest() {
    if (requests.size() != 1) {
      throw new AssertionError("expected exactly one request, got " + requests);
    }
    return requests.get(0);
  }

  private void handle(HttpExchange exchange) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    requests.add(
        new Request(
            exchange.getRequestMethod(),
            exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null
                    ? ""
                    : "?" + exchange.getRequestURI().getRawQuery()),
            Map.copyOf(exchange.getRequestHeaders()),
            body));
    Response response;
    synchronized (script) {
      response = script.size() > 1 ? script.poll() : script.peek();
    }
    if (response == null) {
      response = new Response(500, "text/plain", "no scripted response");
    }
    byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", response.contentType());
    exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
