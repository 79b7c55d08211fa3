package io.shoplens.bench;

import io.shoplens.events.Attribute;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.inference.ImageEmbeddings;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import io.shoplens.processor.topology.recommend.CatalogEntry;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.Recommender;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Latency of one recommendation (what the stream thread spends per upload, after inference) against
 * an in-memory catalog of synthetic products: attribute normalisation, the brute-force scan over
 * every product, top-K and building the event. A program, not a test.
 *
 * <p>Protocol: for each catalog size N and embedding dimension D, N products with random unit
 * vectors of D floats (seeded), random vocabulary attributes (category, colour, material, pattern,
 * style) and 90% in stock are indexed; then {@code warmup} untimed and {@code queries} timed
 * recommendations for random uploads, one at a time on one thread, top 10. Reported: p50, p90, p99
 * and mean latency, the embedding array's size, and the time to index the catalog. D = 16 is the
 * tiny test model, 768 the exporter's {@code bench} preset, 2560 blip2-opt-2.7b.
 *
 * <pre>
 * scripts/bench-recommend        # or: java -Xmx6g -cp ... io.shoplens.bench.RecommendationBenchmark
 *     [--products 10000,100000] [--dims 16,768,2560] [--queries 200] [--warmup 50]
 * </pre>
 *
 * Output: a Markdown table on stdout; progress on stderr.
 */
public final class RecommendationBenchmark {
  private static final String VERSION = "bench-model";
  private static final String[][] VALUES = {
    {"t-shirt", "shirt", "sweater", "jacket", "dress", "jeans", "skirt", "sneakers"},
    {"black", "white", "blue", "red", "green", "beige", "grey", "pink"},
    {"cotton", "denim", "wool", "leather", "silk", "linen", "polyester"},
    {"solid", "striped", "checked", "floral", "graphic"},
    {"casual", "formal", "sporty", "vintage", "classic"}
  };
  private static final String[] NAMES = {"category", "colour", "material", "pattern", "style"};

  private RecommendationBenchmark() {}

  public static void main(String[] args) {
    int[] products = {10_000, 100_000};
    int[] dims = {16, 768, 2560};
    int queries = 200;
    int warmup = 50;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--products" -> products = ints(args[i + 1]);
        case "--dims" -> dims = ints(args[i + 1]);
        case "--queries" -> queries = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.println(
        "| products | dim | embeddings MiB | index build s | p50 ms | p90 ms | p99 ms | mean ms |");
    System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int n : products) {
      for (int d : dims) {
        System.out.println(run(n, d, queries, warmup));
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%n(java %s, %d CPUs, max heap %d MiB, one thread, top 10)%n",
        System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
  }

  private static String run(int n, int dim, int queries, int warmup) {
    System.err.printf(Locale.ROOT, "indexing %d products of dim %d%n", n, dim);
    Random random = new Random(42L * n + dim);
    RecommendConfig config = RecommendConfig.builder().enabled(true).topK(10).build();
    CatalogIndex index = new CatalogIndex(AttributeVocabulary.defaults());
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      index.put(
          new CatalogEntry(
              "p" + i,
              "product " + i,
              "catalog/" + pick(random, VALUES[0]),
              Map.of(
                  "colour", pick(random, VALUES[1]),
                  "material", pick(random, VALUES[2]),
                  "pattern", pick(random, VALUES[3]),
                  "style", pick(random, VALUES[4])),
              random.nextInt(10) > 0,
              null,
              VERSION,
              unit(random, dim),
              0,
              i));
    }
    double buildSeconds = (System.nanoTime() - start) / 1e9;
    Recommender recommender = new Recommender(config, index);
    ModelInfo model = new ModelInfo("bench", VERSION);
    Lineage lineage = new Lineage("shoplens.image-uploads.v1", 0, 0L, null);
    ImageUploaded upload =
        new ImageUploaded(
            "up",
            "user",
            null,
            new InlineImage(ByteBuffer.wrap(new byte[1]), "image/png"),
            Instant.EPOCH,
            null);
    long[] nanos = new long[queries];
    long sink = 0;
    for (int q = -warmup; q < queries; q++) {
      List<Attribute> answers = new ArrayList<>();
      for (int a = 0; a < NAMES.length; a++) {
        answers.add(new Attribute(NAMES[a], "it looks " + pick(random, VALUES[a]), null));
      }
      float[] embedding = unit(random, dim);
      long t0 = System.nanoTime();
      RecommendationsIssued r =
          recommender.recommend(upload, answers, embedding, model, lineage, 0);
      long t = System.nanoTime() - t0;
      sink += r.getProducts().size();
      if (q >= 0) {
        nanos[q] = t;
      }
    }
    if (sink == 0) {
      throw new IllegalStateException("no recommendation was issued");
    }
    Arrays.sort(nanos);
    double mean = Arrays.stream(nanos).average().orElse(0) / 1e6;
    return String.format(
        Locale.ROOT,
        "| %,d | %d | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f |",
        n,
        dim,
        (double) n * dim * 4 / (1 << 20),
        buildSeconds,
        nanos[queries / 2] / 1e6,
        nanos[(int) (queries * 0.9)] / 1e6,
        nanos[Math.min(queries - 1, (int) (queries * 0.99))] / 1e6,
        mean);
  }

  private static String pick(Random random, String[] values) {
    return values[random.nextInt(values.length)];
  }

  private static float[] unit(Random random, int dim) {
    float[] v = new float[dim];
    for (int i = 0; i < dim; i++) {
      v[i] = (float) random.nextGaussian();
    }
    return ImageEmbeddings.normalized(v);
  }

  private static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
  }
}
