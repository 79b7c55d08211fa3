package io.shoplens.processor.app.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations endpoints on the JDK's HTTP server:
 *
 * <ul>
 *   <li>{@code GET /health/live}: 200 while the instance is live, else 503 (restart it)
 *   <li>{@code GET /health/ready}: 200 when the model is loaded and Kafka Streams is RUNNING, else
 *       503 (keep traffic and rollouts waiting)
 *   <li>{@code GET /metrics}: Prometheus text format (engine, Kafka Streams and JVM meters)
 * </ul>
 *
 * Health bodies are small JSON objects ({@code {"live":true,"ready":false,"streams":...}}). One
 * thread serves requests: scrapes and probes are rare and cheap.
 */
public final class OpsHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);
  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private OpsHttpServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /**
   * Binds and starts the server.
   *
   * @param bindAddress the address to listen on: {@code 0.0.0.0} for every interface, {@code
   *     127.0.0.1} for this machine only
   * @param port the port; 0 picks a free one ({@link #port()} says which)
   * @param health what the health endpoints report
   * @param registry the meters /metrics serves
   * @throws UncheckedIOException if the address cannot be bound (the message names it)
   */
  public static OpsHttpServer start(
      String bindAddress, int port, Health health, PrometheusMeterRegistry registry) {
    InetSocketAddress address = new InetSocketAddress(bindAddress, port);
    String where = bindAddress + ":" + port + " (shoplens.http.bind.address, shoplens.http.port)";
    if (address.isUnresolved()) {
      throw new UncheckedIOException(
          new IOException("cannot listen for HTTP on " + where + ": unknown host " + bindAddress));
    }
    HttpServer server;
    try {
      server = HttpServer.create(address, 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen for HTTP on " + where + ": " + e.getMessage(), e);
    }
    server.createContext(
        "/health/live",
        ex -> {
          Health.Status s = health.status();
          respond(ex, s.live() ? 200 : 503, "application/json", s.json());
        });
    server.createContext(
        "/health/ready",
        ex -> {
          Health.Status s = health.status();
          respond(ex, s.ready() ? 200 : 503, "application/json", s.json());
        });
    server.createContext("/metrics", ex -> respond(ex, 200, PROMETHEUS_TEXT, registry.scrape()));
    server.createContext(
        "/", ex -> respond(ex, 404, "text/plain", "try /health/live, /health/ready or /metrics\n"));
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "shoplens-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.start();
    OpsHttpServer started = new OpsHttpServer(server, executor);
    LOG.info(
        "HTTP on {}:{}: /health/live, /health/ready, /metrics",
        started.address().getHostAddress(),
        started.port());
    return started;
  }

  /** The bound port. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** The bound address ({@code 0.0.0.0} for every interface). */
  public InetAddress address() {
    return server.getAddress().getAddress();
  }

  private static void respond(HttpExchange ex, int status, String contentType, String body)
      throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        ex.sendResponseHeaders(405, -1);
        return;
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", contentType);
      ex.getResponseHeaders().set("Cache-Control", "no-store");
      if (method.equals("HEAD")) {
        ex.sendResponseHeaders(status, -1);
        return;
      }
      ex.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Stops at once: probes and scrapes in progress are cut short. */
  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
