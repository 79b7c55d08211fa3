package io.shoplens.demo;

import com.sun.net.httpserver.HttpServer;
import io.shoplens.processor.app.client.InputEvents;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * Serves the demo's catalog images over plain HTTP on the loopback interface, so that the catalog's
 * {@code ImageReference}s go through ShopLens's real image resolver (allow-list, size and digest
 * checks) as a production image store's would. Loopback only: nothing outside this machine can
 * reach it.
 */
final class DemoImageServer implements AutoCloseable {
  private final HttpServer server;

  /**
   * @param images file name to bytes, served at {@code /images/<name>}
   */
  DemoImageServer(Map<String, byte[]> images) {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the demo's image server", e);
    }
    Map<String, byte[]> served = Map.copyOf(images);
    server.createContext(
        "/images/",
        exchange -> {
          try {
            String name = exchange.getRequestURI().getPath().substring("/images/".length());
            byte[] body = served.get(name);
            if (body == null || !exchange.getRequestMethod().equals("GET")) {
              exchange.sendResponseHeaders(404, -1);
              return;
            }
            exchange.getResponseHeaders().set("Content-Type", contentType(name));
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          } finally {
            exchange.close();
          }
        });
    server.start();
  }

  /** The URL of an image, e.g. {@code http://127.0.0.1:41234/images/photo.jpg}. */
  String url(String name) {
    return "http://" + host() + ":" + server.getAddress().getPort() + "/images/" + name;
  }

  /** The host to allow-list. */
  String host() {
    return server.getAddress().getAddress().getHostAddress();
  }

  private static String contentType(String name) {
    return InputEvents.contentType(name);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
