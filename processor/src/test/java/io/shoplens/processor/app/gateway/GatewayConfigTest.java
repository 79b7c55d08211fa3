package io.shoplens.processor.app.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayConfigTest {

  @Test
  void shouldNameTheOptionThatIsMissingWhenBuilt() {
    assertThatThrownBy(GatewayConfig.builder().bindAddress(null)::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("bindAddress");
    assertThatThrownBy(GatewayConfig.builder().viewTtl(null)::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("viewTtl");
    assertThatThrownBy(GatewayConfig.builder().corsAllowedOrigins(null)::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("corsAllowedOrigins");
    assertThatThrownBy(GatewayConfig.builder().searchTimeout(null)::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("searchTimeout");
  }

  @Test
  void shouldRefuseABlankBindAddressAndANonPositiveViewTtl() {
    assertThatThrownBy(GatewayConfig.builder().bindAddress(" ")::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bindAddress must not be blank");
    assertThatThrownBy(GatewayConfig.builder().viewTtl(Duration.ZERO)::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("viewTtl must be positive, got PT0S");
  }

  @Test
  void shouldKeepItsOwnCopyOfTheCorsOrigins() {
    // Given
    List<String> origins = new ArrayList<>(List.of("https://shop.example"));

    // When
    GatewayConfig config = GatewayConfig.builder().corsAllowedOrigins(origins).build();
    origins.add("https://other.example");

    // Then
    assertThat(config.corsAllowedOrigins()).containsExactly("https://shop.example");
  }
}
