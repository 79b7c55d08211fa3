package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class EngineConfigTest {

  @Test
  void shouldStartTheBuilderFromTheDefaults() {
    // Given / When
    EngineConfig built = EngineConfig.builder().build();

    // Then
    assertThat(built).isEqualTo(EngineConfig.defaults());
  }

  @Test
  void shouldChangeOnlyTheSettingsGivenToTheBuilder() {
    // Given
    EngineConfig base = EngineConfig.builder().maxBatchSize(4).build();

    // When
    EngineConfig changed = base.toBuilder().maxBatchWait(Duration.ofMillis(3)).build();

    // Then
    assertThat(changed.maxBatchSize()).isEqualTo(4);
    assertThat(changed.maxBatchWait()).isEqualTo(Duration.ofMillis(3));
    assertThat(changed.queueCapacity()).isEqualTo(EngineConfig.defaults().queueCapacity());
    assertThat(base.maxBatchWait()).isEqualTo(EngineConfig.defaults().maxBatchWait());
  }

  @Test
  void shouldRejectAnOutOfRangeSettingWhenBuilt() {
    // Given
    EngineConfig.Builder builder = EngineConfig.builder().maxBatchSize(0);

    // When / Then
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxBatchSize must be >= 1, got 0");
  }
}
