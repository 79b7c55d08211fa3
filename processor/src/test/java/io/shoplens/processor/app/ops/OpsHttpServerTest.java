package io.shoplens.processor.app.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Where the health and metrics endpoints listen: the configured address only. */
class OpsHttpServerTest {
  private final PrometheusMeterRegistry metrics =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @Test
  void shouldListenOnTheLoopbackAddressOnlyWhenToldTo() throws Exception {
    try (OpsHttpServer server = OpsHttpServer.start("127.0.0.1", 0, new Health(), metrics)) {
      assertThat(server.address().isLoopbackAddress()).isTrue();
      HttpResponse<String> live =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.port() + "/health/live"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(live.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void shouldListenOnEveryInterfaceForTheDefaultAddress() {
    try (OpsHttpServer server = OpsHttpServer.start("0.0.0.0", 0, new Health(), metrics)) {
      assertThat(server.address().isAnyLocalAddress()).isTrue();
    }
  }

  @Test
  void shouldNameTheSettingWhenTheAddressIsUnknown() {
    assertThatThrownBy(() -> OpsHttpServer.start("no-such-host.invalid", 0, new Health(), metrics))
        .isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("shoplens.http.bind.address")
        .hasMessageContaining("no-such-host.invalid");
  }

  @AfterEach
  void closeMetrics() {
    metrics.close();
  }
}
