package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RecommendConfigTest {

  @Test
  void shouldStartTheBuilderFromTheDefaults() {
    assertThat(RecommendConfig.builder().build()).isEqualTo(RecommendConfig.defaults());
  }

  @Test
  void shouldChangeOnlyTheSettingsGivenToTheBuilder() {
    // Given
    RecommendConfig base = RecommendConfig.builder().enabled(true).build();

    // When
    RecommendConfig changed = base.toBuilder().topK(3).build();

    // Then
    assertThat(changed.enabled()).isTrue();
    assertThat(changed.topK()).isEqualTo(3);
    assertThat(changed.embeddingsTopic()).isEqualTo(RecommendConfig.DEFAULT_EMBEDDINGS_TOPIC);
    assertThat(base.topK()).isEqualTo(RecommendConfig.defaults().topK());
  }

  @Test
  void shouldValidateTheSettingsTogetherWhenBuilt() {
    // Given: each weight alone is valid, both 0 is not
    RecommendConfigBuilder builder =
        RecommendConfig.builder().attributeWeight(0).embeddingWeight(0);

    // When / Then
    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not both be 0");
  }

  @Test
  void shouldNameTheSettingThatIsMissingWhenBuilt() {
    assertThatThrownBy(RecommendConfig.builder().embeddingsTopic(null)::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("embeddingsTopic");
    assertThatThrownBy(RecommendConfig.builder().tryOnCategories(null)::build)
        .isInstanceOf(NullPointerException.class)
        .hasMessage("tryOnCategories");
  }
}
