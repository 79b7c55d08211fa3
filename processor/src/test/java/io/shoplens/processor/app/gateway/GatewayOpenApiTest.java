package io.shoplens.processor.app.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** /openapi.json describes exactly the routes the server registers: none missing, none extra. */
class GatewayOpenApiTest {
  @Test
  void shouldDescribeEveryRouteInTheOpenApiDocumentAndNoOther() {
    // Given a gateway (the routes need no broker: nothing is published or read here)
    Map<String, Object> clientProps =
        Map.of("bootstrap.servers", "localhost:1", "schema.registry.url", "mock://openapi-test");
    try (GatewayServer gateway =
        GatewayServer.start(GatewayConfig.builder().port(0).build(), clientProps)) {
      // When its document is fetched
      GatewayClient.Reply doc = new GatewayClient(gateway.port()).get("/openapi.json");

      // Then it is OpenAPI 3 and lists the registered routes, method by method
      assertThat(doc.status()).isEqualTo(200);
      assertThat(doc.json().path("openapi").asText()).startsWith("3.");
      Set<String> documented = new TreeSet<>();
      for (Map.Entry<String, JsonNode> path : doc.json().path("paths").properties()) {
        path.getValue()
            .fieldNames()
            .forEachRemaining(
                m -> documented.add(m.toUpperCase(Locale.ROOT) + " " + path.getKey()));
      }
      assertThat(gateway.routes()).hasSizeGreaterThanOrEqualTo(9);
      assertThat(documented).isEqualTo(new TreeSet<>(gateway.routes()));
    }
  }
}
