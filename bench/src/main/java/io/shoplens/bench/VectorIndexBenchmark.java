package io.shoplens.bench;

import io.shoplens.processor.inference.ImageEmbeddings;
import io.shoplens.processor.topology.recommend.VectorIndex;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The catalog's vector search, Lucene HNSW ({@link VectorIndex}) beside the brute-force scan it
 * replaced, in the same run on the same vectors. A program, not a test.
 *
 * <p>Protocol: for each catalog size N, N products with unit vectors of D floats (seeded) are
 * generated around 1,000 random directions (products of a kind resemble each other, as image
 * embeddings of a catalog do: uniformly random high-dimensional vectors have no neighbours worth
 * the name), 90% in stock. With {@code --vectors Q} > 1 each product instead carries Q vectors
 * scattered around its direction (a retrieval model's query vectors of one image) and similarity is
 * the maximum over them (brute force: exact float max-sim over every vector). The brute-force
 * "build" is generating the flat array; the HNSW build indexes every product from one thread per
 * core (one segment, one graph, per thread), with {@code --merge true} then merges them to one
 * ({@link VectorIndex#optimize}: the merged graph is built on every core from the largest one,
 * about half the insertion work again), and opens a searcher; build CPU is the whole process's,
 * every thread; heap is measured after a GC. Queries are a random product's vector (one of its Q)
 * plus noise ("more like this photo"); {@code warmup} untimed and {@code queries} timed searches,
 * one at a time on one thread, top 10 in stock. Recall@10 is the share of the brute-force top 10
 * that HNSW returns. {@code --candidates} takes a list: one build, then the same queries at each
 * count of pooled-vector neighbours re-ranked (the brute-force answers are computed and timed
 * once), so one run draws the recall/latency curve of one graph.
 *
 * <pre>
 * scripts/bench-recommend   # or: java -Xmx8g -cp ... io.shoplens.bench.VectorIndexBenchmark
 *     [--products 100000,1000000] [--dim 256] [--vectors 1] [--precision FLOAT32|INT8]
 *     [--queries 200] [--warmup 50] [--candidates 200,1000] [--m 32] [--beam 100] [--merge false]
 * </pre>
 */
public final class VectorIndexBenchmark {
  private static final int K = 10;
  private static final int CLUSTERS = 1000;

  private VectorIndexBenchmark() {}

  private record Setup(
      int dim,
      int vectors,
      VectorIndex.Precision precision,
      int queries,
      int warmup,
      int[] candidates,
      int maxConnections,
      int beam,
      boolean merge) {}

  public static void main(String[] args) throws Exception {
    int[] products = {100_000, 1_000_000};
    int dim = 256;
    int vectors = 1;
    VectorIndex.Precision precision = VectorIndex.Precision.FLOAT32;
    int queries = 200;
    int warmup = 50;
    int[] candidates = {VectorIndex.Options.defaults().candidates()};
    int maxConnections = VectorIndex.Options.defaults().maxConnections();
    int beam = VectorIndex.Options.defaults().beamWidth();
    boolean merge = false;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--products" ->
            products = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--dim" -> dim = Integer.parseInt(args[i + 1]);
        case "--vectors" -> vectors = Integer.parseInt(args[i + 1]);
        case "--precision" -> precision = VectorIndex.Precision.valueOf(args[i + 1]);
        case "--queries" -> queries = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        case "--candidates" ->
            candidates =
                Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--m" -> maxConnections = Integer.parseInt(args[i + 1]);
        case "--beam" -> beam = Integer.parseInt(args[i + 1]);
        case "--merge" -> merge = Boolean.parseBoolean(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Setup setup =
        new Setup(
            dim, vectors, precision, queries, warmup, candidates, maxConnections, beam, merge);
    System.out.println(
        "| products | dim x vectors | index | build s | build CPU s | heap MiB | p50 ms | p99 ms"
            + " | recall@10 | p50 CPU ms | p99 CPU ms |");
    System.out.println("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : products) {
      run(n, setup);
    }
    System.out.printf(
        Locale.ROOT,
        "%n(java %s, %d CPUs, max heap %d MiB, one query thread, top 10 in stock, HNSW M=%d"
            + " beam=%d, %s re-ranking vectors, %s)%n",
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20,
        maxConnections,
        beam,
        vectors > 1 ? precision : "no",
        merge ? "merged to one segment" : "one segment per indexing thread");
  }

  private static void run(int n, Setup s) throws InterruptedException, ExecutionException {
    int dim = s.dim();
    int q = s.vectors();
    int row = q * dim;
    Random random = new Random(42L * n + dim);
    float[][] centers = new float[CLUSTERS][];
    for (int c = 0; c < CLUSTERS; c++) {
      centers[c] = unit(random, dim);
    }
    System.err.printf(Locale.ROOT, "generating %d products of %d x %d%n", n, q, dim);
    boolean[] inStock = new boolean[n];
    long heap0 = usedHeap();
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    float[] flat = new float[Math.multiplyExact(n, row)];
    for (int i = 0; i < n; i++) {
      float[] product = near(random, centers[random.nextInt(CLUSTERS)], 0.6f);
      if (q == 1) {
        System.arraycopy(product, 0, flat, i * row, dim);
      } else {
        for (int v = 0; v < q; v++) {
          System.arraycopy(near(random, product, 0.8f), 0, flat, i * row + v * dim, dim);
        }
      }
      inStock[i] = random.nextInt(10) > 0;
    }
    double bruteBuild = (System.nanoTime() - t0) / 1e9;
    double bruteCpu = (cpuNanos() - cpu0) / 1e9;
    long bruteHeap = usedHeap() - heap0;

    int threads = Runtime.getRuntime().availableProcessors();
    System.err.printf(Locale.ROOT, "indexing %d products in HNSW on %d threads%n", n, threads);
    VectorIndex.Options options =
        new VectorIndex.Options(
            s.maxConnections(), s.beam(), s.candidates()[0], true, s.precision());
    long heap1 = usedHeap();
    cpu0 = cpuNanos();
    t0 = System.nanoTime();
    try (VectorIndex index = new VectorIndex(dim, options)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      AtomicInteger done = new AtomicInteger();
      long buildStart = t0;
      long buildCpu0 = cpu0;
      try {
        List<Future<?>> parts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int first = t;
          parts.add(
              pool.submit(
                  () -> {
                    for (int i = first; i < n; i += threads) {
                      index.put(
                          "p" + i,
                          Arrays.copyOfRange(flat, i * row, (i + 1) * row),
                          null,
                          inStock[i],
                          "m");
                      // Progress, so that a build too slow to wait for can be extrapolated.
                      if (done.incrementAndGet() % 100_000 == 0) {
                        System.err.printf(
                            Locale.ROOT,
                            "  %,d inserted: %.1f s, %.1f s CPU%n",
                            done.get(),
                            (System.nanoTime() - buildStart) / 1e9,
                            (cpuNanos() - buildCpu0) / 1e9);
                      }
                    }
                  }));
        }
        for (Future<?> part : parts) {
          part.get();
        }
      } finally {
        pool.shutdown();
      }
      double inserted = (System.nanoTime() - t0) / 1e9;
      System.err.printf(Locale.ROOT, "inserted in %.1f s%n", inserted);
      if (s.merge()) {
        index.optimize();
      }
      // The first search opens the searcher on the merged segment: part of the build.
      index.search(unit(random, dim), K, VectorIndex.Filter.none());
      double hnswBuild = (System.nanoTime() - t0) / 1e9;
      double hnswCpu = (cpuNanos() - cpu0) / 1e9;
      System.err.printf(
          Locale.ROOT, "built in %.1f s (%.1f s CPU, all threads)%n", hnswBuild, hnswCpu);
      long hnswHeap = usedHeap() - heap1;

      VectorIndex.Filter filter = new VectorIndex.Filter(null, true, "m", null);
      ThreadMXBean clock = ManagementFactory.getThreadMXBean();
      // One query set (warm-up first) and its exact top 10, timed once, for every candidate count.
      float[][] queries = new float[s.warmup() + s.queries()][];
      for (int i = 0; i < queries.length; i++) {
        int p = random.nextInt(n);
        int from = p * row + random.nextInt(q) * dim;
        queries[i] = near(random, Arrays.copyOfRange(flat, from, from + dim), 0.3f);
      }
      List<Set<String>> exact = new ArrayList<>(s.queries());
      long[] bruteNanos = new long[s.queries()];
      long[] bruteCpuNanos = new long[s.queries()];
      for (int i = 0; i < queries.length; i++) {
        long startCpu = clock.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        Set<String> top = bruteForce(flat, inStock, n, dim, q, queries[i]);
        long brute = System.nanoTime() - start;
        int t = i - s.warmup();
        if (t >= 0) {
          bruteNanos[t] = brute;
          bruteCpuNanos[t] = clock.getCurrentThreadCpuTime() - startCpu;
          exact.add(top);
        }
      }
      String shape = dim + " x " + q;
      System.out.println(
          row(
              n,
              shape,
              "brute force",
              bruteBuild,
              bruteCpu,
              bruteHeap,
              bruteNanos,
              1.0,
              bruteCpuNanos));
      for (int candidates : s.candidates()) {
        long[] hnswNanos = new long[s.queries()];
        long[] hnswCpuNanos = new long[s.queries()];
        int found = 0;
        for (int i = 0; i < queries.length; i++) {
          long startCpu = clock.getCurrentThreadCpuTime();
          long start = System.nanoTime();
          List<VectorIndex.Scored> hits = index.search(queries[i], K, filter, candidates);
          long hnsw = System.nanoTime() - start;
          int t = i - s.warmup();
          if (t >= 0) {
            hnswNanos[t] = hnsw;
            hnswCpuNanos[t] = clock.getCurrentThreadCpuTime() - startCpu;
            for (VectorIndex.Scored h : hits) {
              if (exact.get(t).contains(h.id())) {
                found++;
              }
            }
          }
        }
        double recall = (double) found / (s.queries() * K);
        System.out.println(
            row(
                n,
                shape,
                "Lucene HNSW, " + candidates + " candidates",
                hnswBuild,
                hnswCpu,
                hnswHeap,
                hnswNanos,
                recall,
                hnswCpuNanos));
      }
    }
  }

  private static String row(
      int n,
      String shape,
      String kind,
      double build,
      double cpu,
      long heap,
      long[] nanos,
      double recall,
      long[] cpuNanos) {
    Arrays.sort(nanos);
    Arrays.sort(cpuNanos);
    return String.format(
        Locale.ROOT,
        "| %,d | %s | %s | %.1f | %.1f | %d | %.2f | %.2f | %.3f | %.2f | %.2f |",
        n,
        shape,
        kind,
        build,
        cpu,
        heap >> 20,
        nanos[nanos.length / 2] / 1e6,
        nanos[Math.min(nanos.length - 1, (int) (nanos.length * 0.99))] / 1e6,
        recall,
        cpuNanos[cpuNanos.length / 2] / 1e6,
        cpuNanos[Math.min(cpuNanos.length - 1, (int) (cpuNanos.length * 0.99))] / 1e6);
  }

  /** The old catalog scan: every in-stock product's (max) dot product, top 10 by a heap. */
  private static Set<String> bruteForce(
      float[] flat, boolean[] inStock, int n, int dim, int q, float[] query) {
    PriorityQueue<double[]> best = new PriorityQueue<>(K + 1, (a, b) -> Double.compare(a[0], b[0]));
    for (int i = 0; i < n; i++) {
      if (!inStock[i]) {
        continue;
      }
      double dot = Double.NEGATIVE_INFINITY;
      for (int v = 0; v < q; v++) {
        dot = Math.max(dot, ImageEmbeddings.dot(query, flat, (i * q + v) * dim));
      }
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

  /**
   * CPU time of the whole process (every thread, the GC's included): on a shared machine the wall
   * time of a build says more about the neighbours than about the build.
   */
  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
