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
    EngineConfigBuilder builder = EngineConfig.builder().maxBatchSize(0);

    // When / Then
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxBatchSize must be >= 1, got 0");
  }

  @Test
  void givenABudgetInBytesWhenResolvedThenItIsCountedInTokensOfTheModel() {
    // Given
    EngineConfig bytes = EngineConfig.builder().kvBudgetBytes(10_000).build();
    EngineConfig auto = EngineConfig.builder().maxBatchSize(4).build();

    // When / Then: bytes divide by the model's KV bytes per token; 0 means 4 rows x 512 positions
    org.assertj.core.api.Assertions.assertThat(bytes.kvBudgetTokens(1_000, 512)).isEqualTo(10);
    org.assertj.core.api.Assertions.assertThat(auto.kvBudgetTokens(1_000, 512)).isEqualTo(2048);
    org.assertj.core.api.Assertions.assertThat(EngineConfig.defaults().scheduler())
        .isEqualTo(EngineConfig.Scheduler.CONTINUOUS);
  }

  @Test
  void shouldRejectAKvBudgetGivenBothInTokensAndInBytes() {
    EngineConfigBuilder builder = EngineConfig.builder().kvBudgetTokens(100).kvBudgetBytes(100);

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("set kvBudgetTokens or kvBudgetBytes, not both");
  }

  @Test
  void shouldNameTheDurationThatIsMissingOrNegativeWhenBuilt() {
    // Given
    EngineConfigBuilder missing = EngineConfig.builder().maxBatchWait(null);
    EngineConfigBuilder negative = EngineConfig.builder().offerTimeout(Duration.ofMillis(-1));

    // When / Then
    assertThatThrownBy(missing::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("maxBatchWait");
    assertThatThrownBy(negative::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("offerTimeout must not be negative, got PT-0.001S");
  }
}
