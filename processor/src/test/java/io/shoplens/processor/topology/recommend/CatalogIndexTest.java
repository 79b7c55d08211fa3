package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.shoplens.processor.inference.ImageEmbeddings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class CatalogIndexTest {
  private static final String V = "m1";

  private static CatalogEntry entry(
      String id, boolean inStock, Map<String, String> attrs, float[] v) {
    return new CatalogEntry(id, id, "misc", attrs, inStock, null, v == null ? null : V, v, 0, 0);
  }

  private static CatalogIndex.Query query(Map<String, String> attrs, float[] v, int k) {
    return new CatalogIndex.Query(null, attrs, v, V, k, 0.5, 0.5, -10);
  }

  @Test
  void shouldMatchABruteForceReferenceAfterRandomPutsAndRemoves() {
    // Given many puts, replacements and removals (slots move on removal)
    Random random = new Random(7);
    CatalogIndex index = new CatalogIndex(AttributeVocabulary.empty());
    Map<String, CatalogEntry> reference = new HashMap<>();
    for (int i = 0; i < 2000; i++) {
      String id = "p" + random.nextInt(300);
      if (random.nextInt(4) == 0) {
        index.remove(id);
        reference.remove(id);
      } else {
        float[] v = new float[8];
        for (int d = 0; d < v.length; d++) {
          v[d] = (float) random.nextGaussian();
        }
        CatalogEntry e =
            entry(
                id,
                random.nextInt(5) > 0,
                Map.of("colour", "c" + random.nextInt(3)),
                ImageEmbeddings.normalized(v));
        index.put(e);
        reference.put(id, e);
      }
    }
    float[] q = new float[8];
    for (int d = 0; d < q.length; d++) {
      q[d] = (float) random.nextGaussian();
    }
    float[] query = ImageEmbeddings.normalized(q);

    // When searching
    CatalogIndex.Result result = index.search(query(Map.of("colour", "c1"), query, 10));

    // Then it equals scoring every product the slow way
    List<Map.Entry<String, Double>> expected = new ArrayList<>();
    for (CatalogEntry e : reference.values()) {
      if (!e.inStock()) {
        continue;
      }
      double cos = ImageEmbeddings.dot(query, e.embedding(), 0);
      double agreement = e.attributes().get("colour").equals("c1") ? 1 : 0;
      expected.add(Map.entry(e.productId(), 0.5 * agreement + 0.5 * cos));
    }
    expected.sort(
        Comparator.<Map.Entry<String, Double>>comparingDouble(Map.Entry::getValue)
            .reversed()
            .thenComparing(Map.Entry::getKey));
    assertThat(result.catalogSize()).isEqualTo(reference.size());
    assertThat(result.hits())
        .extracting(CatalogIndex.Hit::productId)
        .containsExactlyElementsOf(
            expected.subList(0, 10).stream().map(Map.Entry::getKey).toList());
  }

  @Test
  void shouldBreakTiesByProductIdAndKeepTopK() {
    CatalogIndex index = new CatalogIndex(AttributeVocabulary.empty());
    for (String id : List.of("d", "b", "a", "c")) {
      index.put(entry(id, true, Map.of("colour", "red"), null));
    }
    CatalogIndex.Result r = index.search(query(Map.of("colour", "red"), null, 3));
    assertThat(r.hits()).extracting(CatalogIndex.Hit::productId).containsExactly("a", "b", "c");
    assertThat(r.hits()).allSatisfy(h -> assertThat(h.similarity()).isNull());
  }

  @Test
  void shouldNotCompareEmbeddingsOfAnotherModelVersionOrDimension() {
    CatalogIndex index = new CatalogIndex(AttributeVocabulary.empty());
    index.put(entry("same", true, Map.of(), new float[] {1, 0}));
    index.put(
        new CatalogEntry(
            "old", "old", "misc", Map.of(), true, null, "m0", new float[] {1, 0}, 0, 0));
    index.put(entry("wide", true, Map.of(), new float[] {1, 0, 0}));
    CatalogIndex.Result r = index.search(query(Map.of(), new float[] {1, 0}, 10));
    // Only the comparable product is a candidate: the others share nothing measurable
    assertThat(r.hits()).extracting(CatalogIndex.Hit::productId).containsExactly("same");
    assertThat(r.candidates()).isEqualTo(3);
  }

  @Test
  void shouldFollowAProductReplacedOutOfStockAndWithoutEmbeddingInEveryIndex() {
    // Given a product with an embedding, then the same product out of stock without one
    CatalogIndex index = new CatalogIndex(AttributeVocabulary.empty());
    index.put(entry("p", true, Map.of("colour", "red"), new float[] {1, 0}));
    index.put(entry("q", true, Map.of("colour", "blue"), new float[] {0, 1}));
    index.put(entry("p", false, Map.of("colour", "blue"), null));

    // When searching by its old colour and embedding
    CatalogIndex.Result r = index.search(query(Map.of("colour", "red"), new float[] {1, 0}, 10));

    // Then neither its old attribute, its old vector nor its old stock state is remembered
    assertThat(r.catalogSize()).isEqualTo(2);
    assertThat(r.outOfStock()).isEqualTo(1);
    assertThat(r.candidates()).isEqualTo(1);
    assertThat(r.hits()).extracting(CatalogIndex.Hit::productId).containsExactly("q");
    assertThat(r.hits().get(0).similarity()).isCloseTo(0.0, within(1e-9));
  }

  @Test
  void shouldFindTheNearestProductsAmongManyThroughTheVectorIndex() {
    // Given more products than the vector index fetches as candidates (so HNSW, not a scan, picks)
    Random random = new Random(5);
    CatalogIndex index =
        new CatalogIndex(
            AttributeVocabulary.empty(),
            new VectorIndex.Options(16, 100, 20, true, VectorIndex.Precision.FLOAT32),
            0);
    List<CatalogEntry> all = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      float[] v = new float[16];
      for (int d = 0; d < v.length; d++) {
        v[d] = (float) random.nextGaussian();
      }
      CatalogEntry e = entry("p" + i, true, Map.of(), ImageEmbeddings.normalized(v));
      all.add(e);
      index.put(e);
    }
    float[] query = all.get(42).embedding();

    // When searching by one product's embedding
    CatalogIndex.Result r = index.search(query(Map.of(), query, 5));

    // Then that product ranks first with cosine 1, and the others follow by exact cosine
    assertThat(r.hits().get(0).productId()).isEqualTo("p42");
    assertThat(r.hits().get(0).similarity()).isCloseTo(1.0, within(1e-5));
    assertThat(r.hits())
        .extracting(CatalogIndex.Hit::score)
        .isSortedAccordingTo(Comparator.reverseOrder());
  }

  @Test
  void shouldIndexABulkRebuildFromManyThreadsAsPutOneByOne() throws Exception {
    // Given 2,000 products with vectors, a tenth out of stock, some with attributes
    Random random = new Random(11);
    List<CatalogEntry> all = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      float[] v = new float[16];
      for (int d = 0; d < v.length; d++) {
        v[d] = (float) random.nextGaussian();
      }
      Map<String, String> attrs = i % 3 == 0 ? Map.of("colour", "c" + i % 7) : Map.of();
      all.add(entry("p" + i, i % 10 != 0, attrs, ImageEmbeddings.normalized(v)));
    }
    VectorIndex.Options options =
        new VectorIndex.Options(16, 50, 2000, true, VectorIndex.Precision.FLOAT32);
    CatalogIndex oneByOne = new CatalogIndex(AttributeVocabulary.empty(), options, 0);
    all.forEach(oneByOne::put);

    // When the same products are put in bulk from four threads
    CatalogIndex bulk = new CatalogIndex(AttributeVocabulary.empty(), options, 0);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      bulk.putAll(all.iterator(), pool);
    } finally {
      pool.shutdownNow();
    }

    // Then both hold every product and vector, and answer every search alike (candidates cover
    // the whole catalog, so the exact scores decide and the graphs' differences cannot show)
    assertThat(bulk.size()).isEqualTo(all.size());
    assertThat(bulk.embedded(V)).isEqualTo(oneByOne.embedded(V)).isEqualTo(all.size());
    for (int q = 0; q < 20; q++) {
      CatalogEntry probe = all.get(10 * random.nextInt(all.size() / 10) + 1); // in stock
      CatalogIndex.Query query = query(probe.attributes(), probe.embedding(), 10);
      assertThat(bulk.search(query).hits()).isEqualTo(oneByOne.search(query).hits());
      assertThat(bulk.search(query).hits().get(0).productId()).isEqualTo(probe.productId());
    }
  }
}
