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
 *       matmul.onnx} (A[n,n] x B[n,n], n = 1024: 2.1 GFLOP).
 *   <li><b>Peak</b>: {@code matmul.onnx} run through ONNX Runtime with the engine's session options
 *       and thread count, i.e. the same MLAS kernels the graphs use at their most efficient shape;
 *       measured again right before each workload, which is read against that measurement (on a
 *       shared machine the CPU left to us drifts over the minutes this takes). Memory: {@code
 *       System.arraycopy} of 256 MiB (bytes read + written per second).
 *   <li><b>Graphs</b>, through the engine's own {@link Blip2Graphs} (the calls the engine makes,
 *       Java tensor handling included): vision on 1 and 8 images; a decoder prefill of 8 rows x 42
 *       positions (the serving workload's image prefix and question) with no past; single-token
 *       steps of 1 and 8 rows after 42 positions (timed over consecutive steps, past 42 to 42 +
 *       reps; the attention's share of a step's FLOPs changes by under 0.1 % over that range).
 * </ul>
 *
 * Each is run {@code warmup} times untimed and {@code reps} times timed; the median is reported.
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

    Row withPeak(double peak) {
      return new Row(label, gflop, medianMs, weightBytes, peak);
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
    // The peak is measured again right before each workload, and each workload is read against
    // its own: on a shared machine the available CPU drifts over the minutes this takes.
    JsonNode matmul = flops.get("matmul");
    List<Row> rows = new ArrayList<>();
    rows.add(matmulPeak(config, matmul, warmup, reps));
    ModelBundle bundle = ModelBundle.load(bundleDir);
    double decoderBytes = Files.size(bundle.file(Blip2Graphs.DECODER));
    try (Blip2Graphs graphs = Blip2Graphs.open(bundle, config)) {
      for (int batch : new int[] {1, 8}) {
        double peak = matmulPeak(config, matmul, warmup, reps).gflops();
        rows.add(vision(graphs, batch, gflop.get("vision b" + batch), warmup, reps).withPeak(peak));
      }
      double peak = matmulPeak(config, matmul, warmup, reps).gflops();
      rows.add(prefill(graphs, gflop.get("prefill b8 s" + PREFIX), warmup, reps).withPeak(peak));
      for (int batch : new int[] {1, 8}) {
        String label = "step b" + batch + " p" + PREFIX;
        peak = matmulPeak(config, matmul, warmup, reps).gflops();
        rows.add(
            steps(graphs, batch, label, gflop.get(label), decoderBytes, warmup, reps)
                .withPeak(peak));
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
    out.append(
            "| workload | GFLOP per run | median ms | GFLOP/s | matmul peak just before, GFLOP/s")
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
    double ms = median(warmup, reps, () -> System.arraycopy(a, 0, b, 0, a.length));
    return 2.0 * COPY_BYTES / (ms / 1e3) / 1e9;
  }

  private static Row matmulPeak(EngineConfig config, JsonNode matmul, int warmup, int reps)
      throws Exception {
    int n = matmul.get("n").asInt();
    OrtEnvironment env = OrtRuntime.environment();
    float[] values = randomFloats(n * n, 1);
    try (OrtSession.SessionOptions options = OrtRuntime.sessionOptions(config);
        OrtSession session = env.createSession(matmul.get("file").asText(), options);
        OnnxTensor a = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), new long[] {n, n});
        OnnxTensor b = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), new long[] {n, n})) {
      Map<String, OnnxTensor> inputs = Map.of("a", a, "b", b);
      double ms =
          median(
              warmup,
              reps,
              () -> {
                try (OrtSession.Result r = session.run(inputs)) {
                  r.get(0);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      double gflop = matmul.get("gflop").asDouble();
      return new Row("matmul " + n + "x" + n + "x" + n, gflop, ms, 0, gflop / (ms / 1e3));
    }
  }

  private static Row vision(Blip2Graphs graphs, int batch, double gflop, int warmup, int reps) {
    int size = graphs.manifest().vision().imageSize();
    float[] pixels = randomFloats(batch * 3 * size * size, 2);
    System.err.println("vision b" + batch);
    double ms = median(warmup, reps, () -> graphs.vision(pixels, batch));
    return new Row("vision b" + batch, gflop, ms, 0, 0);
  }

  private static Row prefill(Blip2Graphs graphs, double gflop, int warmup, int reps) {
    int batch = 8;
    Inputs in = new Inputs(graphs, batch, PREFIX, 0);
    float[] logits = new float[batch * graphs.manifest().text().vocabSize()];
    System.err.println("prefill b" + batch);
    double ms =
        median(
            warmup,
            reps,
            () -> {
              KvCache cache = graphs.newCache(batch, PREFIX);
              graphs.decode(in.embeds, PREFIX, in.mask, in.positions, cache, logits);
              graphs.recycle(cache);
            });
    return new Row("prefill b" + batch + " s" + PREFIX, gflop, ms, 0, 0);
  }

  private static Row steps(
      Blip2Graphs graphs,
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
    System.err.println(label);
    double ms =
        median(
            warmup,
            reps,
            () -> {
              Inputs step = new Inputs(graphs, batch, 1, cache.length());
              graphs.decode(step.embeds, 1, step.mask, step.positions, cache, logits);
            });
    graphs.recycle(cache);
    return new Row(label, gflop, ms, decoderBytes, 0);
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

  private static double median(int warmup, int reps, Runnable run) {
    for (int i = 0; i < warmup; i++) {
      run.run();
    }
    double[] ms = new double[reps];
    for (int i = 0; i < reps; i++) {
      long start = System.nanoTime();
      run.run();
      ms[i] = (System.nanoTime() - start) / 1e6;
    }
    Arrays.sort(ms);
    return reps % 2 == 1 ? ms[reps / 2] : (ms[reps / 2 - 1] + ms[reps / 2]) / 2;
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
