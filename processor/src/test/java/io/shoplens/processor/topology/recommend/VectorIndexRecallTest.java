package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Recall of the HNSW index with max-similarity re-ranking against exact search, on synthetic
 * multi-vector items shaped like a retrieval model's: each item's query vectors scatter around one
 * direction (one image), and a text query is closest to one of them.
 */
class VectorIndexRecallTest {
  private static final int ITEMS = 3000;
  private static final int DIM = 32;
  private static final int VECTORS = 8;
  private static final int QUERIES = 100;
  private static final int K = 10;

  @Test
  void shouldReachRecallAt10OfAtLeast95PercentWithReranking() {
    assertThat(recall(VectorIndex.Options.defaults())).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void shouldFallBelowThatRecallWithoutRerankingSoTheRerankingIsWhatAchievesIt() {
    VectorIndex.Options noRerank = new VectorIndex.Options(16, 100, 200, false);
    assertThat(recall(noRerank)).isLessThan(0.95);
  }

  @Test
  void shouldOnlyReturnItemsPassingTheFilter() {
    Random random = new Random(3);
    try (VectorIndex index = new VectorIndex(DIM, VectorIndex.Options.defaults())) {
      for (int i = 0; i < 500; i++) {
        index.put("p" + i, item(random), i % 2 == 0 ? "shoes" : "dresses", i % 3 != 0, "m1");
      }
      float[] query = unit(random, DIM);
      VectorIndex.Filter filter = new VectorIndex.Filter("shoes", true, "m1", "p0");

      List<VectorIndex.Scored> hits = index.search(query, K, filter);

      assertThat(hits).hasSize(K);
      assertThat(hits)
          .allSatisfy(
              h -> {
                int n = Integer.parseInt(h.id().substring(1));
                assertThat(n % 2).as(h.id() + " is shoes").isZero();
                assertThat(n % 3).as(h.id() + " is in stock").isNotZero();
              });
      assertThat(index.search(query, K, new VectorIndex.Filter(null, false, "m2", null))).isEmpty();
    }
  }

  @Test
  void shouldForgetRemovedAndClearedItems() {
    Random random = new Random(4);
    try (VectorIndex index = new VectorIndex(DIM, VectorIndex.Options.defaults())) {
      float[] a = item(random);
      index.put("a", a, null, true, null);
      index.put("b", item(random), null, true, null);
      index.remove("b");
      float[] query = Arrays.copyOf(a, DIM);
      assertThat(index.search(query, K, VectorIndex.Filter.none()))
          .extracting(VectorIndex.Scored::id)
          .containsExactly("a");
      index.clear();
      assertThat(index.search(query, K, VectorIndex.Filter.none())).isEmpty();
      assertThat(index.size()).isZero();
    }
  }

  private static double recall(VectorIndex.Options options) {
    Random random = new Random(11);
    try (VectorIndex index = new VectorIndex(DIM, options)) {
      for (int i = 0; i < ITEMS; i++) {
        index.put("p" + i, item(random), null, true, null);
      }
      int found = 0;
      for (int q = 0; q < QUERIES; q++) {
        float[] query = unit(random, DIM);
        Set<String> exact = new HashSet<>();
        index.exactSearch(query, K, id -> true).forEach(s -> exact.add(s.id()));
        for (VectorIndex.Scored s : index.search(query, K, VectorIndex.Filter.none())) {
          if (exact.contains(s.id())) {
            found++;
          }
        }
      }
      return (double) found / (QUERIES * K);
    }
  }

  /** VECTORS unit vectors scattered around one random direction. */
  private static float[] item(Random random) {
    float[] center = unit(random, DIM);
    float[] out = new float[VECTORS * DIM];
    for (int v = 0; v < VECTORS; v++) {
      float[] noise = unit(random, DIM);
      double norm = 0;
      for (int d = 0; d < DIM; d++) {
        out[v * DIM + d] = center[d] + 0.8f * noise[d];
        norm += out[v * DIM + d] * out[v * DIM + d];
      }
      for (int d = 0; d < DIM; d++) {
        out[v * DIM + d] /= (float) Math.sqrt(norm);
      }
    }
    return out;
  }

  private static float[] unit(Random random, int dim) {
    float[] v = new float[dim];
    double norm = 0;
    for (int d = 0; d < dim; d++) {
      v[d] = (float) random.nextGaussian();
      norm += v[d] * v[d];
    }
    for (int d = 0; d < dim; d++) {
      v[d] /= (float) Math.sqrt(norm);
    }
    return v;
  }
}
