package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The image embedding: mean-pooled, L2-normalised query embeddings, through the engine's cache. */
class ImageEmbeddingTest {

  @Test
  void shouldMeanPoolOverQueryTokensThenNormalise() {
    // Q = 2 query tokens of H = 2: mean (2, 0) + (0, 2) -> (1, 1) -> (0.7071, 0.7071)
    float[] v = ImageEmbeddings.meanPoolNormalized(new float[] {2, 0, 0, 2}, 2);
    assertThat(v).containsExactly(new float[] {0.70710677f, 0.70710677f}, within(1e-7f));
    assertThat(ImageEmbeddings.meanPoolNormalized(new float[] {1, -1, -1, 1}, 2))
        .containsExactly(0f, 0f);
    assertThatThrownBy(() -> ImageEmbeddings.meanPoolNormalized(new float[5], 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("5 floats");
  }

  @Test
  void shouldEmbedWithTheVisionGraphAndReuseCachedQueryEmbeddings() throws Exception {
    byte[] photo = TinyBundle.imageBytes("photo.jpg");
    byte[] wide = TinyBundle.imageBytes("wide.png");
    EngineConfig config =
        EngineConfig.builder()
            .intraOpThreads(1)
            .interOpThreads(1)
            .maxBatchSize(4)
            .maxBatchWait(Duration.ofMillis(1))
            .build();
    float[] expected;
    try (Blip2Model model = Blip2Model.open(TinyBundle.dir(), config)) {
      Blip2Model.Prepared p =
          model.prepare(GenerationRequest.caption("x", photo, DecodingOptions.greedy(), 0));
      float[] query = model.encodeImages(List.of(model.decodeImage(p))).get(0);
      expected = ImageEmbeddings.meanPoolNormalized(query, model.numQueryTokens());
    }
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(TinyBundle.dir(), config)) {
      // Given a caption of the photo (one vision run)
      engine
          .submit(GenerationRequest.caption("c", photo, DecodingOptions.greedy(), 0))
          .get(30, TimeUnit.SECONDS);
      long runs = engine.stats().visionRuns();

      // When the same photo is embedded
      float[] embedding = engine.embed("e", photo).get(30, TimeUnit.SECONDS);

      // Then it is the pooled query embeddings, of hidden size and norm 1, from the cache
      assertThat(embedding).hasSize(16).containsExactly(expected, within(1e-6f));
      double norm = 0;
      for (float f : embedding) {
        norm += f * f;
      }
      assertThat(norm).isCloseTo(1.0, within(1e-5));
      assertThat(engine.stats().visionRuns()).isEqualTo(runs);

      // And another image gets another embedding, deterministically
      float[] other = engine.embed("w", wide).get(30, TimeUnit.SECONDS);
      assertThat(ImageEmbeddings.dot(embedding, other, 0)).isLessThan(0.9999f);
      assertThat(engine.embed("w2", wide).get(30, TimeUnit.SECONDS)).containsExactly(other);

      // And a bad image fails its own future only
      CompletableFuture<float[]> bad = engine.embed("bad", new byte[] {1, 2, 3});
      assertThat(bad).failsWithin(Duration.ofSeconds(30));
    }
  }
}
