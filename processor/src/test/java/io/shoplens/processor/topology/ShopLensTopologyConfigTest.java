package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.images.ImageResolverConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShopLensTopologyConfigTest {

  @Test
  void shouldStartTheBuilderFromTheDefaults() {
    assertThat(ShopLensTopologyConfig.builder().build())
        .isEqualTo(ShopLensTopologyConfig.defaults());
  }

  @Test
  void shouldKeepTheDefaultsAndTakeTheSerdeSettingsGiven() {
    // Given
    Map<String, Object> serde = Map.of("schema.registry.url", "mock://t");

    // When
    ShopLensTopologyConfig config = ShopLensTopologyConfig.builder(serde).build();

    // Then
    assertThat(config.serdeConfig()).isEqualTo(serde);
    assertThat(config.toBuilder().serdeConfig(Map.of()).build())
        .isEqualTo(ShopLensTopologyConfig.defaults());
  }

  @Test
  void shouldShareTheInlineImageLimitWithTheImageResolver() {
    // One limit for the topology's check and the resolver's: they disagreed once.
    assertThat(ShopLensTopologyConfig.defaults().maxInlineImageBytes())
        .isEqualTo(ImageResolverConfig.defaults().maxInlineBytes())
        .isEqualTo(900_000L);
  }

  @Test
  void shouldValidateTheSettingsTogetherWhenBuilt() {
    // Given: 5 in flight cannot hold one upload (a caption and 5 attribute prompts)
    ShopLensTopologyConfigBuilder builder = ShopLensTopologyConfig.builder().maxInFlightRequests(5);

    // When / Then
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxInFlightRequests must be at least");
  }
}
