package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Searches that run at the same time, right after writes, see those writes. */
class VectorIndexConcurrencyTest {
  private static final int DIM = 4;

  @Test
  void shouldShowEveryConcurrentSearchTheItemsWrittenBeforeIt() throws Exception {
    // Given an index that two threads search at the same moment after every write (the demo's two
    // searches right after the catalog loaded: one of them used to get the searcher from before
    // the writes, while the other was still refreshing it)
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (VectorIndex index = new VectorIndex(DIM, VectorIndex.Options.defaults())) {
      List<String> misses = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String id = "p" + i;
        float[] vector = unit(i);
        index.put(id, vector, null, true, null);
        CyclicBarrier start = new CyclicBarrier(2);
        List<Future<List<VectorIndex.Scored>>> searches = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
          searches.add(
              pool.submit(
                  () -> {
                    start.await();
                    return index.search(vector, 1, VectorIndex.Filter.none());
                  }));
        }
        // When both search for the item just written
        for (Future<List<VectorIndex.Scored>> search : searches) {
          List<VectorIndex.Scored> found = search.get();
          if (found.isEmpty() || !found.get(0).id().equals(id)) {
            misses.add(id + " -> " + found);
          }
        }
      }
      // Then every search found it
      assertThat(misses).isEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  /** Item i's vector: a distinct direction per item, so its own vector is its nearest. */
  private static float[] unit(int i) {
    double a = i * 0.0209; // 300 items over 2*pi
    float[] v = {(float) Math.cos(a), (float) Math.sin(a), 0.5f, 0.5f};
    double norm = Math.sqrt(v[0] * v[0] + v[1] * v[1] + 0.5);
    for (int k = 0; k < DIM; k++) {
      v[k] /= (float) norm;
    }
    return v;
  }
}
