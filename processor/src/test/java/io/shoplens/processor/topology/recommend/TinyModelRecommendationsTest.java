package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Product;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.ImageEmbeddings;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Recommendations from the committed tiny BLIP-2 model through the topology: catalog images and the
 * upload are embedded by the real engine, so the ranking is the model's, and it is the same on
 * every run.
 */
class TinyModelRecommendationsTest {
  private static final List<String> CATALOG =
      List.of("photo.jpg", "wide.png", "alpha.png", "gray.png", "palette.png");

  @TempDir Path stateDir;

  private static BatchingInferenceEngine start(Path bundle) {
    return BatchingInferenceEngine.start(
        bundle,
        EngineConfig.builder()
            .intraOpThreads(1)
            .interOpThreads(1)
            .maxBatchSize(8)
            .maxBatchWait(Duration.ofMillis(2))
            .build());
  }

  /** The OPT tiny bundle and the T5 tiny bundle: recommendations work unchanged on either. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tiny-blip2-opt", "tiny-blip2-t5"})
  void shouldRankTheCatalogByTheTinyModelsImageSimilarityTheSameWayEveryRun(String bundle)
      throws Exception {
    Path dir =
        bundle.equals("tiny-blip2-opt")
            ? TinyBundle.dir()
            : TinyBundle.dir().resolveSibling(bundle);
    try (BatchingInferenceEngine engine = start(dir)) {
      shouldRankTheCatalogTheSameWayEveryRun(engine, "shoplens/" + bundle);
    }
  }

  private void shouldRankTheCatalogTheSameWayEveryRun(
      BatchingInferenceEngine engine, String modelId) throws Exception {
    List<RankedProduct> first = run(engine, modelId, stateDir.resolve("1"));
    List<RankedProduct> second = run(engine, modelId, stateDir.resolve("2"));

    // The identical catalog image comes first with similarity 1
    assertThat(first.get(0).getProductId()).isEqualTo("p-photo.jpg");
    assertThat(first.get(0).getSimilarity()).isCloseTo(1.0, within(1e-5));
    // Every similarity is the cosine of the engine's own embeddings, best first
    byte[] upload = TinyBundle.imageBytes("photo.jpg");
    float[] u = engine.embed("u", upload).get(30, TimeUnit.SECONDS);
    List<Double> similarities = new ArrayList<>();
    for (RankedProduct p : first) {
      String image = p.getProductId().substring(2);
      float[] v = engine.embed(image, TinyBundle.imageBytes(image)).get(30, TimeUnit.SECONDS);
      assertThat(p.getSimilarity()).isCloseTo(ImageEmbeddings.dot(u, v, 0), within(1e-6));
      similarities.add(p.getSimilarity());
    }
    assertThat(similarities).isSortedAccordingTo((a, b) -> Double.compare(b, a));
    assertThat(first).hasSize(CATALOG.size());
    // And a second run issues the same list
    assertThat(second).isEqualTo(first);
  }

  private List<RankedProduct> run(BatchingInferenceEngine engine, String modelId, Path dir) {
    ShopLensTopologyConfig config =
        RecommendHarness.config()
            .modelId(modelId)
            .imageTokens(10)
            .captionOptions(DecodingOptions.greedy().withMaxNewTokens(4))
            .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
            .recommendations(
                RecommendConfig.builder()
                    .enabled(true)
                    .topK(10)
                    .attributeWeight(0.0)
                    .embeddingWeight(1.0)
                    .minScore(-1.0)
                    .build())
            .build();
    try (RecommendHarness h = new RecommendHarness(config, engine, dir)) {
      Map<String, byte[]> images = new LinkedHashMap<>();
      for (String name : CATALOG) {
        images.put(name, TinyBundle.imageBytes(name));
      }
      images.forEach(
          (name, bytes) -> {
            String uri = "https://img.test/" + name;
            h.images.put(uri, bytes);
            h.catalog.pipeInput(
                "p-" + name,
                Product.newBuilder()
                    .setProductId("p-" + name)
                    .setTitle(name)
                    .setCategory("tops")
                    .setImage(
                        new ImageReference(
                            uri, ImageDigest.sha256Hex(bytes), "image/png", (long) bytes.length))
                    .setInStock(true)
                    .build());
          });
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                h.tick();
                return h.catalogStore().approximateNumEntries() == CATALOG.size();
              });
      h.uploads.pipeInput(
          "up-photo",
          ImageUploaded.newBuilder()
              .setUploadId("up-photo")
              .setUserId("u")
              .setProductId(null)
              .setImage(
                  new InlineImage(
                      ByteBuffer.wrap(TinyBundle.imageBytes("photo.jpg")), "image/jpeg"))
              .setUploadedAt(RecommendHarness.T0)
              .build());
      List<RecommendationsIssued> out = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                h.tick();
                out.addAll(h.recommendations.readValuesToList());
                return !out.isEmpty();
              });
      assertThat(out).hasSize(1);
      assertThat(out.get(0).getModel().getModelVersion()).isEqualTo(engine.modelVersion());
      return out.get(0).getProducts();
    }
  }
}
