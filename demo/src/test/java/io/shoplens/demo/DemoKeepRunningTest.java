package io.shoplens.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code shoplens demo --keep-running}: after the samples it serves its registry over REST and the
 * HTTP gateway with the page, so that another process can upload a photo and read the answers.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DemoKeepRunningTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void shouldServeTheRegistryTheGatewayAndThePageUntilStopped() throws Exception {
    // Given a kept-running demo on free ports
    StringWriter out = new StringWriter();
    CountDownLatch stop = new CountDownLatch(1);
    CompletableFuture<Demo.Result> run =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new Demo(
                        new PrintWriter(out, true),
                        Duration.ofSeconds(180),
                        0,
                        new Demo.KeptPorts(0, 0))
                    .run(true, stop);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    try {
      await()
          .atMost(Duration.ofSeconds(240))
          .until(() -> out.toString().contains("recommendations come out on") || run.isDone());
      String text = out.toString();
      assertThat(text).contains("Still running");
      String gateway = find(text, "Demo page: +(http://localhost:\\d+)/");
      String registry = find(text, "Schema Registry: +(http://127\\.0\\.0\\.1:\\d+)");

      // When another process uploads a photo and asks a question through the gateway
      String boundary = "b" + UUID.randomUUID();
      byte[] body = multipart(boundary, image("photo.jpg"));
      JsonNode uploaded =
          send(
              HttpRequest.newBuilder(URI.create(gateway + "/v1/uploads"))
                  .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
      String uploadId = uploaded.path("uploadId").asText();
      JsonNode asked =
          send(
              HttpRequest.newBuilder(URI.create(gateway + "/v1/uploads/" + uploadId + "/questions"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"what is it?\"}")));
      String questionId = asked.path("questionId").asText();

      // Then the caption and the answer arrive, the registry answers over REST, and the page is
      // served
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () ->
                  get(gateway + "/v1/uploads/" + uploadId)
                          .path("status")
                          .asText()
                          .equals("captioned")
                      && get(gateway + "/v1/questions/" + questionId).has("answer"));
      assertThat(get(registry + "/subjects")).isNotEmpty();
      HttpResponse<String> page =
          http.send(
              HttpRequest.newBuilder(URI.create(gateway + "/")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.body()).contains("<html");
    } finally {
      stop.countDown();
    }
    assertThat(run.get(60, TimeUnit.SECONDS).complete()).isTrue();
  }

  private JsonNode get(String url) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(url)));
  }

  private JsonNode send(HttpRequest.Builder request) throws Exception {
    HttpResponse<String> r =
        http.send(
            request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
    return JSON.readTree(r.body());
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in:%n%s", regex, text).isTrue();
    return m.group(1);
  }

  private static byte[] multipart(String boundary, byte[] image) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    b.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"photo.jpg\"\r\n"
                + "Content-Type: image/jpeg\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    b.writeBytes(image);
    b.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return b.toByteArray();
  }

  private static byte[] image(String name) {
    return DemoResources.image(name);
  }
}
