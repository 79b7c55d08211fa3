package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CatalogEntryTest {

  private static final CatalogEntry WITHOUT =
      new CatalogEntry(
          "p1",
          "Red shirt",
          "tops/shirts",
          Map.of("colour", "red"),
          true,
          "u#s",
          null,
          null,
          3,
          42);

  @Test
  void shouldChangeOnlyTheEmbeddingAndItsVersionWithEmbedding() {
    // Given a product without an embedding
    float[] vector = {0.6f, 0.8f};

    // When
    CatalogEntry with = WITHOUT.withEmbedding("m1", vector);

    // Then
    assertThat(with.modelVersion()).isEqualTo("m1");
    assertThat(with.embedding()).isSameAs(vector);
    assertThat(with)
        .usingRecursiveComparison()
        .ignoringFields("modelVersion", "embedding")
        .isEqualTo(WITHOUT);
    assertThat(with.withEmbedding(null, null)).usingRecursiveComparison().isEqualTo(WITHOUT);
  }

  @Test
  void shouldRefuseAnEmbeddingWithoutItsVersionWithEmbedding() {
    assertThatThrownBy(() -> WITHOUT.withEmbedding(null, new float[] {1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("product p1: an embedding needs its model version and vice versa");
  }
}
