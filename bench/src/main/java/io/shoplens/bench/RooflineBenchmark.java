package io.shoplens.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.onnx.KvCache;
import io.shoplens.processor.inference.onnx.OrtRuntime;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * How close the engine's graphs come to this machine's limits: achieved GFLOP/s of the vision graph
 * and of decoding against a matrix-multiply peak, and the weight bandwidth of single-token steps
 * against a memory-copy rate, all measured in one process, one after the other.
 *
 * <p>Protocol ({@code scripts/bench-engine --roofline}):
 *
 * <ul>
 *   <li><b>FLOPs</b> come from the graphs, not from a formula: {@code python -m
 *       shoplens_export.flops} fixes each graph's symbolic dimensions to the shapes below, infers
 *       every tensor's shape and counts 2 x output elements x inner dimension for each MatMul, Gemm
 *       and Conv (element-wise work is not counted, a few percent in these transformers, so the
 *       rates are slight underestimates). It writes {@code flops.json} and a graph {@code
 *       matmul.onnx} (A[n,n] x B[n,n], n = 2048: 17.2 GFLOP).
 *   <li><b>Peak</b>: {@code matmul.onnx} run through ONNX Runtime with the engine's session options
 *       and thread count, i.e. the same MLAS kernels the graphs use at their most efficient shape,
 *       timed beside every workload: each repetition runs one matmul, then the workload once, and
 *       each workload is read against the matmul's median over the same repetitions (on a shared
 *       machine the CPU left to us drifts over the minutes this takes). Memory: {@code
 *       System.arraycopy} of 256 MiB (bytes read + written per second).
 *   <li><b>Graphs</b>, through the engine's own {@link Blip2Graphs} (the calls the engine makes,
 *       Java tensor handling included): vision on 1 and 8 images; a decoder prefill of 8 rows x 42
 *       positions (the serving workload's image prefix and question) with no past; single-token
 *       steps of 1 and 8 rows after 42 positions (timed over consecutive steps, past 42 to 42 +
 *       reps; the attention's share of a step's FLOPs changes by under 0.1 % over that range).
 * </ul>
 *
 * Each is run {@code warmup} times untimed and {@code reps} times timed; medians are reported.
 * Output: a Markdown table on stdout, progress on stderr.
 *
 * <pre>
 * java -cp ... io.shoplens.bench.RooflineBenchmark --bundle DIR --flops flops.json
 *     [--intra-op 2] [--warmup 2] [--reps 10]
 * </pre>
 */
public final class RooflineBenchmark {
  private static final int PREFIX = 42;
  private static final long COPY_BYTES = 256L << 20;

  private RooflineBenchmark() {}

  /**
   * One timed workload: its label (as in flops.json), GFLOP per run, median ms, the decoder's
   * weight bytes (single-token steps only, else 0) and the matmul peak measured just before it.
   */
  private record Row(
      String label, double gflop, double medianMs, double weightBytes, double peakGflops) {
    double gflops() {
      return gflop / (medianMs / 1e3);
    }
  }

  public static void main(String[] args) throws Exception {
    Path bundleDir = null;
    Path flopsFile = null;
    int intra = 2;
    int warmup = 2;
    int reps = 10;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + args[i] + " needs a value");
      }
      String value = args[i + 1];
      switch (args[i]) {
        case "--bundle" -> bundleDir = Path.of(value);
        case "--flops" -> flopsFile = Path.of(value);
        case "--intra-op" -> intra = Integer.parseInt(value);
        case "--warmup" -> warmup = Integer.parseInt(value);
        case "--reps" -> reps = Integer.parseInt(value);
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + "; expected --bundle, --flops, --intra-op, --warmup, --reps");
      }
    }
    if (bundleDir == null || flopsFile == null) {
      throw new IllegalArgumentException("--bundle and --flops are required");
    }
    JsonNode flops = new ObjectMapper().readTree(flopsFile.toFile());
    Map<String, Double> gflop = new LinkedHashMap<>();
    for (JsonNode g : flops.get("graphs")) {
      if (!g.get("uncounted_nodes").isEmpty()) {
        throw new IllegalStateException(
            g.get("label").asText() + ": the counter left nodes uncounted: " + g);
      }
      gflop.put(g.get("label").asText(), g.get("gflop").asDouble());
    }
    EngineConfig config = EngineConfig.builder().intraOpThreads(intra).interOpThreads(1).build();
    String loadBefore = loadAverage();

    double copyGbs = copyRate(warmup, reps);
    List<Row> rows = new ArrayList<>();
    ModelBundle bundle = ModelBundle.load(bundleDir);
    double decoderBytes = Files.size(bundle.file(Blip2Graphs.DECODER));
    try (Peak peak = new Peak(config, flops.get("matmul"));
        Blip2Graphs graphs = Blip2Graphs.open(bundle, config)) {
      rows.add(peak.alone(warmup, reps));
      for (int batch : new int[] {1, 8}) {
        int size = graphs.manifest().vision().imageSize();
        float[] pixels = randomFloats(batch * 3 * size * size, 2);
        String label = "vision b" + batch;
        rows.add(
            peak.measure(
                label, gflop.get(label), 0, warmup, reps, () -> graphs.vision(pixels, batch)));
      }
      rows.add(prefill(graphs, peak, gflop.get("prefill b8 s" + PREFIX), warmup, reps));
      for (int batch : new int[] {1, 8}) {
        String label = "step b" + batch + " p" + PREFIX;
        rows.add(steps(graphs, peak, batch, label, gflop.get(label), decoderBytes, warmup, reps));
      }
    }
    print(bundle, intra, copyGbs, rows, loadBefore, warmup, reps);
  }

  private static void print(
      ModelBundle bundle,
      int intra,
      double copyGbs,
      List<Row> rows,
      String loadBefore,
      int warmup,
      int reps) {
    StringBuilder out = new StringBuilder();
    out.append("| workload | GFLOP per run | median ms | GFLOP/s | matmul peak beside it, GFLOP/s")
        .append(" | % of that peak | weights GB/s |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %.3f | %.2f | %.1f | %.1f | %.0f %% | %s |%n",
              r.label,
              r.gflop,
              r.medianMs,
              r.gflops(),
              r.peakGflops,
              100 * r.gflops() / r.peakGflops,
              r.weightBytes > 0
                  ? String.format(Locale.ROOT, "%.1f", r.weightBytes / (r.medianMs / 1e3) / 1e9)
                  : ""));
    }
    out.append(
        String.format(
            Locale.ROOT,
            "%nmemory copy (System.arraycopy, 256 MiB, read + written): %.1f GB/s%n"
                + "bundle %s, intra-op threads %d, %d CPUs, warm-up %d, median of %d;"
                + " load average before: %s, after: %s%n",
            copyGbs,
            bundle.manifest().modelVersion(),
            intra,
            Runtime.getRuntime().availableProcessors(),
            warmup,
            reps,
            loadBefore,
            loadAverage()));
    System.out.print(out);
  }

  private static double copyRate(int warmup, int reps) {
    byte[] a = new byte[(int) COPY_BYTES];
    byte[] b = new byte[(int) COPY_BYTES];
    Arrays.fill(a, (byte) 1);
    double[] ms = new double[reps];
    for (int i = -warmup; i < reps; i++) {
      long start = System.nanoTime();
      System.arraycopy(a, 0, b, 0, a.length);
      if (i >= 0) {
        ms[i] = (System.nanoTime() - start) / 1e6;
      }
    }
    return 2.0 * COPY_BYTES / (median(ms) / 1e3) / 1e9;
  }

  /**
   * The matmul graph, run beside every workload: each repetition times one matmul, then one run of
   * the workload, so that both medians come from the same minutes of a shared machine and the ratio
   * between them holds even while the CPU left to us drifts.
   */
  private static final class Peak implements AutoCloseable {
    final double gflop;
    private final String label;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final OnnxTensor a;
    private final OnnxTensor b;

    Peak(EngineConfig config, JsonNode matmul) throws Exception {
      int n = matmul.get("n").asInt();
      gflop = matmul.get("gflop").asDouble();
      label = "matmul " + n + "x" + n + "x" + n;
      OrtEnvironment env = OrtRuntime.environment();
      float[] values = randomFloats(n * n, 1);
      options = OrtRuntime.sessionOptions(config);
      session = env.createSession(matmul.get("file").asText(), options);
      a = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), new long[] {n, n});
      b = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), new long[] {n, n});
    }

    private void runOnce() {
      try (OrtSession.Result r = session.run(Map.of("a", a, "b", b))) {
        r.get(0);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }

    /** Times {@code work} and the matmul alternately. */
    Row measure(
        String name, double workGflop, double weightBytes, int warmup, int reps, Runnable work) {
      System.err.println(name);
      double[] peakMs = new double[reps];
      double[] workMs = new double[reps];
      for (int i = -warmup; i < reps; i++) {
        long t0 = System.nanoTime();
        runOnce();
        long peakNanos = System.nanoTime() - t0;
        settle();
        long t1 = System.nanoTime();
        work.run();
        long workNanos = System.nanoTime() - t1;
        settle();
        if (i >= 0) {
          peakMs[i] = peakNanos / 1e6;
          workMs[i] = workNanos / 1e6;
        }
      }
      return new Row(name, workGflop, median(workMs), weightBytes, gflop / (median(peakMs) / 1e3));
    }

    /**
     * Lets the other session's intra-op threads stop spinning: ONNX Runtime's pool threads spin for
     * a while after their work before they block, and two sessions' spinning threads would
     * otherwise take the cores from each other's first milliseconds.
     */
    private static void settle() {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }

    /** The matmul's own row. */
    Row alone(int warmup, int reps) {
      Row idle = measure(label, 0, 0, warmup, reps, () -> {});
      return new Row(label, gflop, gflop / (idle.peakGflops() / 1e3), 0, idle.peakGflops());
    }

    @Override
    public void close() throws Exception {
      a.close();
      b.close();
      session.close();
      options.close();
    }
  }

  private static Row prefill(Blip2Graphs graphs, Peak peak, double gflop, int warmup, int reps) {
    int batch = 8;
    Inputs in = new Inputs(graphs, batch, PREFIX, 0);
    float[] logits = new float[batch * graphs.manifest().text().vocabSize()];
    return peak.measure(
        "prefill b" + batch + " s" + PREFIX,
        gflop,
        0,
        warmup,
        reps,
        () -> {
          KvCache cache = graphs.newCache(batch, PREFIX);
          graphs.decode(in.embeds, PREFIX, in.mask, in.positions, cache, logits);
          graphs.recycle(cache);
        });
  }

  private static Row steps(
      Blip2Graphs graphs,
      Peak peak,
      int batch,
      String label,
      double gflop,
      double decoderBytes,
      int warmup,
      int reps) {
    float[] logits = new float[batch * graphs.manifest().text().vocabSize()];
    KvCache cache = graphs.newCache(batch, PREFIX + warmup + reps + 1);
    Inputs prefix = new Inputs(graphs, batch, PREFIX, 0);
    graphs.decode(prefix.embeds, PREFIX, prefix.mask, prefix.positions, cache, logits);
    Row row =
        peak.measure(
            label,
            gflop,
            decoderBytes,
            warmup,
            reps,
            () -> {
              Inputs step = new Inputs(graphs, batch, 1, cache.length());
              graphs.decode(step.embeds, 1, step.mask, step.positions, cache, logits);
            });
    graphs.recycle(cache);
    return row;
  }

  /** Decoder inputs for {@code seq} new positions per row after {@code past}. */
  private static final class Inputs {
    final float[] embeds;
    final long[] mask;
    final long[] positions;

    Inputs(Blip2Graphs graphs, int batch, int seq, int past) {
      embeds = randomFloats(batch * seq * graphs.manifest().text().hiddenSize(), 3 + past);
      mask = new long[batch * (past + seq)];
      Arrays.fill(mask, 1);
      positions = new long[batch * seq];
      for (int i = 0; i < positions.length; i++) {
        positions[i] = past + i % seq;
      }
    }
  }

  private static float[] randomFloats(int n, long seed) {
    Random random = new Random(seed);
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextGaussian() * 0.02);
    }
    return values;
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
