package io.shoplens.bench;

import io.shoplens.processor.inference.ImageEmbeddings;
import io.shoplens.processor.topology.recommend.VectorIndex;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;

/**
 * The catalog's vector search, Lucene HNSW ({@link VectorIndex}) beside the brute-force scan it
 * replaced, in the same run on the same vectors. A program, not a test.
 *
 * <p>Protocol: for each catalog size N, N products with unit vectors of D floats (seeded) are
 * generated around 1,000 random directions (products of a kind resemble each other, as image
 * embeddings of a catalog do: uniformly random high-dimensional vectors have no neighbours worth
 * the name), 90% in stock. Both indexes are built (build time and heap growth measured after a GC).
 * Queries are a random product's vector plus noise ("more like this photo"); {@code warmup} untimed
 * and {@code queries} timed searches, one at a time on one thread, top 10 in stock. Recall@10 is
 * the share of the brute-force top 10 that HNSW returns.
 *
 * <pre>
 * scripts/bench-recommend   # or: java -Xmx8g -cp ... io.shoplens.bench.VectorIndexBenchmark
 *     [--products 100000,1000000] [--dim 256] [--queries 200] [--warmup 50] [--candidates 200]
 * </pre>
 */
public final class VectorIndexBenchmark {
  private static final int K = 10;
  private static final int CLUSTERS = 1000;

  private VectorIndexBenchmark() {}

  public static void main(String[] args) {
    int[] products = {100_000, 1_000_000};
    int dim = 256;
    int queries = 200;
    int warmup = 50;
    int candidates = VectorIndex.Options.defaults().candidates();
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--products" ->
            products = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--dim" -> dim = Integer.parseInt(args[i + 1]);
        case "--queries" -> queries = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        case "--candidates" -> candidates = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.println(
        "| products | dim | index | build s | heap MiB | p50 ms | p99 ms | recall@10 |");
    System.out.println("|---:|---:|---|---:|---:|---:|---:|---:|");
    for (int n : products) {
      run(n, dim, queries, warmup, candidates);
    }
    System.out.printf(
        Locale.ROOT,
        "%n(java %s, %d CPUs, max heap %d MiB, one query thread, top 10, HNSW M=16 beam=100,"
            + " %d candidates)%n",
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20,
        candidates);
  }

  private static void run(int n, int dim, int queries, int warmup, int candidates) {
    Random random = new Random(42L * n + dim);
    float[][] centers = new float[CLUSTERS][];
    for (int c = 0; c < CLUSTERS; c++) {
      centers[c] = unit(random, dim);
    }
    System.err.printf(Locale.ROOT, "generating %d products of dim %d%n", n, dim);
    boolean[] inStock = new boolean[n];
    long heap0 = usedHeap();
    long t0 = System.nanoTime();
    float[] flat = new float[n * dim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(
          near(random, centers[random.nextInt(CLUSTERS)], 0.6f), 0, flat, i * dim, dim);
      inStock[i] = random.nextInt(10) > 0;
    }
    double bruteBuild = (System.nanoTime() - t0) / 1e9;
    long bruteHeap = usedHeap() - heap0;

    System.err.printf(Locale.ROOT, "indexing %d products in HNSW%n", n);
    VectorIndex.Options options = new VectorIndex.Options(16, 100, candidates, true);
    long heap1 = usedHeap();
    t0 = System.nanoTime();
    try (VectorIndex index = new VectorIndex(dim, options)) {
      for (int i = 0; i < n; i++) {
        index.put("p" + i, Arrays.copyOfRange(flat, i * dim, (i + 1) * dim), null, inStock[i], "m");
      }
      // The first search refreshes the searcher (flushes and builds the last graph): part of build.
      index.search(unit(random, dim), K, VectorIndex.Filter.none());
      double hnswBuild = (System.nanoTime() - t0) / 1e9;
      long hnswHeap = usedHeap() - heap1;

      VectorIndex.Filter filter = new VectorIndex.Filter(null, true, "m", null);
      long[] hnswNanos = new long[queries];
      long[] bruteNanos = new long[queries];
      int found = 0;
      for (int q = -warmup; q < queries; q++) {
        int p = random.nextInt(n);
        float[] query = near(random, Arrays.copyOfRange(flat, p * dim, (p + 1) * dim), 0.3f);
        long s = System.nanoTime();
        List<VectorIndex.Scored> hits = index.search(query, K, filter);
        long hnsw = System.nanoTime() - s;
        s = System.nanoTime();
        Set<String> exact = bruteForce(flat, inStock, n, dim, query);
        long brute = System.nanoTime() - s;
        if (q >= 0) {
          hnswNanos[q] = hnsw;
          bruteNanos[q] = brute;
          for (VectorIndex.Scored h : hits) {
            if (exact.contains(h.id())) {
              found++;
            }
          }
        }
      }
      double recall = (double) found / (queries * K);
      System.out.println(row(n, dim, "brute force", bruteBuild, bruteHeap, bruteNanos, 1.0));
      System.out.println(row(n, dim, "Lucene HNSW", hnswBuild, hnswHeap, hnswNanos, recall));
    }
  }

  private static String row(
      int n, int dim, String kind, double build, long heap, long[] nanos, double recall) {
    Arrays.sort(nanos);
    return String.format(
        Locale.ROOT,
        "| %,d | %d | %s | %.1f | %d | %.2f | %.2f | %.3f |",
        n,
        dim,
        kind,
        build,
        heap >> 20,
        nanos[nanos.length / 2] / 1e6,
        nanos[Math.min(nanos.length - 1, (int) (nanos.length * 0.99))] / 1e6,
        recall);
  }

  /** The old catalog scan: every in-stock vector's dot product, top 10 by a heap. */
  private static Set<String> bruteForce(
      float[] flat, boolean[] inStock, int n, int dim, float[] query) {
    PriorityQueue<double[]> best = new PriorityQueue<>(K + 1, (a, b) -> Double.compare(a[0], b[0]));
    for (int i = 0; i < n; i++) {
      if (!inStock[i]) {
        continue;
      }
      double dot = ImageEmbeddings.dot(query, flat, i * dim);
      if (best.size() < K || dot > best.peek()[0]) {
        best.add(new double[] {dot, i});
        if (best.size() > K) {
          best.poll();
        }
      }
    }
    Set<String> ids = new HashSet<>();
    for (double[] e : best) {
      ids.add("p" + (int) e[1]);
    }
    return ids;
  }

  private static float[] near(Random random, float[] center, float noise) {
    float[] v = unit(random, center.length);
    for (int d = 0; d < v.length; d++) {
      v[d] = center[d] + noise * v[d];
    }
    return ImageEmbeddings.normalized(v);
  }

  private static float[] unit(Random random, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return ImageEmbeddings.normalized(v);
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
