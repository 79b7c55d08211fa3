package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Recall of the HNSW index with max-similarity re-ranking against exact float search (computed here
 * from the test's own copy of the vectors), on synthetic multi-vector items shaped like a retrieval
 * model's: each item's query vectors scatter around one direction (one image), and a text query is
 * closest to one of them.
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
    VectorIndex.Options noRerank =
        new VectorIndex.Options(16, 100, 200, false, VectorIndex.Precision.FLOAT32);
    assertThat(recall(noRerank)).isLessThan(0.95);
  }

  @Test
  void shouldKeepRecallAt10OfAtLeast95PercentWhenRerankingOnInt8Vectors() {
    // Given re-ranking vectors kept as int8 (a quarter of float32's memory)
    VectorIndex.Options int8 =
        VectorIndex.Options.defaults().withPrecision(VectorIndex.Precision.INT8);

    // When searching, Then recall against exact float max-sim stays at the target
    assertThat(recall(int8)).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void shouldScoreInt8ItemsWithinAFewTenThousandthsOfTheirFloatMaxSimilarityAt256Dimensions() {
    // Given 32-vector items of the retrieval model's 256 dimensions kept as int8
    int dim = 256;
    Random random = new Random(7);
    VectorIndex.Options int8 =
        VectorIndex.Options.defaults().withPrecision(VectorIndex.Precision.INT8);
    try (VectorIndex index = new VectorIndex(dim, int8)) {
      float[][] vectors = new float[200][];
      for (int i = 0; i < vectors.length; i++) {
        vectors[i] = item(random, dim, 32);
        index.put("p" + i, vectors[i], null, true, null);
      }

      // When scoring each against a query
      float[] query = unit(random, dim);
      double sum = 0;
      double worst = 0;
      for (int i = 0; i < vectors.length; i++) {
        double error = Math.abs(index.similarity(query, "p" + i) - maxSim(query, vectors[i]));
        sum += error;
        worst = Math.max(worst, error);
      }

      // Then the score is the float max-sim up to int8 rounding (a step is about 0.0015 here)
      assertThat(sum / vectors.length).isLessThan(5e-4);
      assertThat(worst).isLessThan(2e-3);
    }
  }

  @Test
  void shouldKeepSingleVectorItemsExactUnderInt8Precision() {
    // Given one-vector items (catalog embeddings) in an index set to int8
    Random random = new Random(8);
    VectorIndex.Options int8 =
        VectorIndex.Options.defaults().withPrecision(VectorIndex.Precision.INT8);
    try (VectorIndex index = new VectorIndex(DIM, int8)) {
      float[] v = unit(random, DIM);
      index.put("a", v, null, true, null);
      float[] query = unit(random, DIM);

      // When scoring, Then the score is the exact float dot product
      assertThat(index.similarity(query, "a")).isCloseTo(maxSim(query, v), within(1e-6));
      assertThat(index.search(query, 1, VectorIndex.Filter.none()).get(0).similarity())
          .isCloseTo(maxSim(query, v), within(1e-6));
    }
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
      float[][] vectors = new float[ITEMS][];
      for (int i = 0; i < ITEMS; i++) {
        vectors[i] = item(random);
        index.put("p" + i, vectors[i], null, true, null);
      }
      int found = 0;
      for (int q = 0; q < QUERIES; q++) {
        float[] query = unit(random, DIM);
        Set<String> exact = exactTop(query, vectors);
        for (VectorIndex.Scored s : index.search(query, K, VectorIndex.Filter.none())) {
          if (exact.contains(s.id())) {
            found++;
          }
        }
      }
      return (double) found / (QUERIES * K);
    }
  }

  /** The ids of the K items of highest float max-similarity with {@code query}. */
  private static Set<String> exactTop(float[] query, float[][] vectors) {
    Integer[] order = new Integer[vectors.length];
    double[] score = new double[vectors.length];
    for (int i = 0; i < vectors.length; i++) {
      order[i] = i;
      score[i] = maxSim(query, vectors[i]);
    }
    Arrays.sort(order, (a, b) -> Double.compare(score[b], score[a]));
    Set<String> top = new HashSet<>();
    for (int i = 0; i < K; i++) {
      top.add("p" + order[i]);
    }
    return top;
  }

  private static double maxSim(float[] query, float[] vectors) {
    double best = Double.NEGATIVE_INFINITY;
    for (int base = 0; base < vectors.length; base += query.length) {
      double dot = 0;
      for (int d = 0; d < query.length; d++) {
        dot += (double) query[d] * vectors[base + d];
      }
      best = Math.max(best, dot);
    }
    return best;
  }

  /** VECTORS unit vectors of DIM scattered around one random direction. */
  private static float[] item(Random random) {
    return item(random, DIM, VECTORS);
  }

  private static float[] item(Random random, int dim, int count) {
    float[] center = unit(random, dim);
    float[] out = new float[count * dim];
    for (int v = 0; v < count; v++) {
      float[] noise = unit(random, dim);
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        out[v * dim + d] = center[d] + 0.8f * noise[d];
        norm += out[v * dim + d] * out[v * dim + d];
      }
      for (int d = 0; d < dim; d++) {
        out[v * dim + d] /= (float) Math.sqrt(norm);
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
