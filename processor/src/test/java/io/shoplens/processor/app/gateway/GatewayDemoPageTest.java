package io.shoplens.processor.app.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The demo page as the gateway serves it: one HTML page with its script and style sheet, all from
 * the gateway itself (shoppers' networks may reach no CDN). DemoProcessIT (demo module) drives it
 * in a browser; this checks what can be checked without one.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayDemoPageTest {
  private static EmbeddedKafkaCluster kafka;
  private static GatewayServer gateway;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void startGateway() {
    kafka = new EmbeddedKafkaCluster().start();
    gateway =
        GatewayServer.start(
            GatewayConfig.builder().port(0).build(),
            Map.of(
                "bootstrap.servers",
                kafka.bootstrapServers(),
                "schema.registry.url",
                "mock://gateway-page-" + UUID.randomUUID()));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void givenTheGatewayWhenTheRootIsFetchedThenTheDemoPageComesWithItsScriptAndStyles()
      throws Exception {
    HttpResponse<String> page = get("/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
    assertThat(page.body())
        .contains("<html lang=\"en\">")
        .contains("src=\"shoplens.js\"")
        .contains("href=\"shoplens.css\"")
        .contains("id=\"photo-input\"")
        .contains("id=\"question-form\"")
        .contains("aria-live=\"polite\"");

    HttpResponse<String> script = get("/shoplens.js");
    assertThat(script.statusCode()).isEqualTo(200);
    assertThat(script.body())
        .contains("/v1/uploads")
        .contains("new EventSource(")
        .contains("\"caption\"")
        .contains("\"answer\"")
        .contains("\"recommendations\"")
        .contains("conversationId");

    HttpResponse<String> styles = get("/shoplens.css");
    assertThat(styles.statusCode()).isEqualTo(200);
    assertThat(styles.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("text/css"));
  }

  @Test
  void givenTheDemoPageWhenItsFilesAreReadThenNoneLoadsAnythingFromAnotherHost() throws Exception {
    for (String file : new String[] {"/", "/shoplens.js", "/shoplens.css"}) {
      assertThat(get(file).body()).as(file).doesNotContainPattern("(src|href)=\"(https?:)?//");
      assertThat(get(file).body()).as(file).doesNotContainPattern("url\\((https?:)?//");
    }
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + gateway.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
