package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/** A small HTTP client for the gateway's tests: JSON and multipart requests, JSON responses. */
final class GatewayClient {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A response: status and body (JSON when the body is JSON, else a text node). */
  record Reply(int status, JsonNode json, Map<String, java.util.List<String>> headers) {
    String code() {
      return json.path("code").asText();
    }

    String message() {
      return json.path("message").asText();
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final Map<String, String> extraHeaders;

  GatewayClient(int port) {
    this(port, Map.of());
  }

  GatewayClient(int port, Map<String, String> extraHeaders) {
    this.base = "http://localhost:" + port;
    this.extraHeaders = extraHeaders;
  }

  String base() {
    return base;
  }

  Reply get(String path) {
    return send(request(path).GET().build());
  }

  Reply postJson(String path, String body) {
    return send(
        request(path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  /** POSTs {@code bytes} as the multipart field {@code image}, claiming {@code contentType}. */
  Reply upload(byte[] bytes, String fileName, String contentType) {
    return upload(bytes, fileName, contentType, Map.of());
  }

  /** {@link #upload(byte[], String, String)} with text form fields before the image. */
  Reply upload(byte[] bytes, String fileName, String contentType, Map<String, String> fields) {
    String boundary = "----shoplens" + UUID.randomUUID();
    return send(
        request("/v1/uploads")
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    multipart(boundary, fields, bytes, fileName, contentType)))
            .build());
  }

  /**
   * POSTs {@code body} without a Content-Length (chunked transfer encoding), as a client may that
   * streams what it sends.
   */
  Reply postChunked(String path, String contentType, byte[] body) {
    return send(
        request(path)
            .header("Content-Type", contentType)
            .POST(
                HttpRequest.BodyPublishers.ofInputStream(
                    () -> new java.io.ByteArrayInputStream(body)))
            .build());
  }

  /** A multipart body with {@code bytes} as the field {@code image}; its boundary is {@code b}. */
  static byte[] multipart(String b, byte[] bytes, String fileName, String contentType) {
    return multipart(b, Map.of(), bytes, fileName, contentType);
  }

  private static byte[] multipart(
      String b, Map<String, String> fields, byte[] bytes, String fileName, String contentType) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    fields.forEach(
        (name, value) -> {
          write(body, "--" + b + "\r\n");
          write(body, "Content-Disposition: form-data; name=\"" + name + "\"\r\n\r\n");
          write(body, value + "\r\n");
        });
    write(body, "--" + b + "\r\n");
    write(
        body, "Content-Disposition: form-data; name=\"image\"; filename=\"" + fileName + "\"\r\n");
    write(body, "Content-Type: " + contentType + "\r\n\r\n");
    body.writeBytes(bytes);
    write(body, "\r\n--" + b + "--\r\n");
    return body.toByteArray();
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    extraHeaders.forEach(b::header);
    return b;
  }

  private Reply send(HttpRequest request) {
    try {
      HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
      JsonNode json;
      try {
        json = JSON.readTree(r.body());
      } catch (IOException e) {
        json = JSON.getNodeFactory().textNode(r.body());
      }
      return new Reply(r.statusCode(), json, r.headers().map());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void write(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
  }
}
