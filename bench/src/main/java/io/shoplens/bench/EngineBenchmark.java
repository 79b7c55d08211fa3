package io.shoplens.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.Blip2Model;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.bundle.ModelBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * Throughput of the Java engine on a model bundle (normally the exporter's {@code bench} preset):
 * images/s through the vision graph and generated tokens/s of greedy decoding, per batch size, with
 * the process's peak RSS. A program, not a test: {@code scripts/bench-engine} runs it next to the
 * Python counterpart ({@code python -m shoplens_export bench}), which follows the same protocol, so
 * that the numbers are comparable line by line.
 *
 * <p>Protocol (shared with the Python side): for each batch size B in ascending order, B images of
 * deterministic synthetic pixels ({@link #pixels}) and B copies of the same question (so no row is
 * padded). Vision: the vision graph on the B images. Generation: prefill plus greedy decoding of
 * exactly {@code max-new-tokens} tokens per row ({@code minNewTokens = maxNewTokens}, so stop
 * tokens are suppressed and every row decodes the same length), from query embeddings computed
 * beforehand (the vision graph is not in this time). Each is run {@code warmup} times untimed, then
 * {@code reps} times; the median is reported. Peak RSS is {@code VmHWM} read after the batch: the
 * process's peak so far, batches ascending, so it includes model loading.
 *
 * <p>Output: one JSON object per line on stdout ({@code "kind": "setup"} once, then {@code "kind":
 * "result"} per batch); progress goes to stderr.
 *
 * <pre>
 * java -cp ... io.shoplens.bench.EngineBenchmark --bundle DIR [--batches 1,4,8]
 *     [--max-new-tokens 16] [--warmup 1] [--reps 3] [--intra-op 2] [--inter-op 1]
 * java -cp ... io.shoplens.bench.EngineBenchmark --serving --bundle DIR
 *     --workload FILE [--intra-op 2] [--inter-op 1]
 * </pre>
 *
 * <p>Serving mode ({@link Serving}): the whole engine ({@code BatchingInferenceEngine}) under the
 * continuous scheduler, then under the static one, on a ShopLens-shaped workload written by {@code
 * python -m shoplens_export.bench --write-workload} (same requests and arrivals as the Python
 * static-batch loops): saturation (every request submitted at once), then Poisson arrivals at 50%
 * and 80% of each scheduler's own saturation rate.
 */
public final class EngineBenchmark {
  /** The question every row asks (the Python side uses the same text). */
  public static final String QUESTION = "what is the colour of the dress?";

  private EngineBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--serving")) {
      Serving.main(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    Args a = Args.parse(args);
    EngineConfig config =
        EngineConfig.builder().intraOpThreads(a.intraOp).interOpThreads(a.interOp).build();
    long loadStart = System.nanoTime();
    try (Blip2Model model = Blip2Model.open(a.bundle, config)) {
      double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
      int pixelCount = model.manifest().vision().pixelCount();
      System.out.println(
          new Json()
              .put("kind", "setup")
              .put("impl", "java-ort")
              .put("runtime", "onnxruntime-java " + ortVersion())
              .put("java", System.getProperty("java.version"))
              .put("model_version", model.modelVersion())
              .put("intra_op_threads", a.intraOp)
              .put("inter_op_threads", a.interOp)
              .put("load_s", loadSeconds)
              .put("rss_after_load_mib", rssMib("VmRSS"))
              .put("loadavg", loadAverage()));
      for (int batch : a.batches) {
        List<float[]> pixels = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
          pixels.add(pixels(i, pixelCount));
        }
        double[] visionMs =
            time(a.warmup, a.reps, () -> checkSize(model.encodeImages(pixels), batch));

        DecodingOptions options =
            DecodingOptions.greedy()
                .withMaxNewTokens(a.maxNewTokens)
                .withMinNewTokens(a.maxNewTokens);
        List<float[]> embeds = model.encodeImages(pixels);
        List<Blip2Model.Encoded> encoded = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
          Blip2Model.Prepared p =
              model.prepare(
                  GenerationRequest.ofPixels(
                      "bench-" + i, pixels.get(i), null, QUESTION, List.of(), options, 0));
          encoded.add(new Blip2Model.Encoded(p, embeds.get(i), p.preprocessNanos(), 0, false));
        }
        List<List<GenerationResult>> last = new ArrayList<>(List.of(List.of()));
        double[] generateMs = time(a.warmup, a.reps, () -> last.set(0, model.decode(encoded)));
        List<GenerationResult> results = last.get(0);
        for (GenerationResult r : results) {
          if (r.generatedTokens() != a.maxNewTokens) {
            throw new IllegalStateException(
                r.requestId() + " generated " + r.generatedTokens() + " tokens");
          }
        }
        double vision = median(visionMs);
        double generate = median(generateMs);
        GenerationResult first = results.get(0);
        System.out.println(
            new Json()
                .put("kind", "result")
                .put("impl", "java-ort")
                .put("batch", batch)
                .put("images_per_s", batch / (vision / 1000))
                .put("vision_ms", vision)
                .put("vision_runs_ms", visionMs)
                .put("new_tokens", a.maxNewTokens)
                .put("prompt_tokens", first.promptTokens())
                .put("tokens_per_s", (double) batch * a.maxNewTokens / (generate / 1000))
                .put("generate_ms", generate)
                .put("generate_runs_ms", generateMs)
                .put("prefill_ms", first.timings().prefill().toNanos() / 1e6)
                .put("query_embeds_row0_head", Arrays.copyOf(embeds.get(0), 4))
                .put("tokens_row0", first.tokenIds())
                .put("peak_rss_mib", rssMib("VmHWM"))
                .put("loadavg", loadAverage()));
        System.out.flush();
      }
    }
  }

  /**
   * Synthetic pixels of image {@code image}: a fixed pattern in [-1, 1], computed in double and
   * rounded to float so that Python reproduces it bit for bit ({@code bench.py}).
   */
  public static float[] pixels(int image, int count) {
    float[] out = new float[count];
    for (int i = 0; i < count; i++) {
      out[i] = (float) (((i * 31L + image * 17L) % 255) / 127.5 - 1.0);
    }
    return out;
  }

  private static void checkSize(List<float[]> out, int batch) {
    if (out.size() != batch) {
      throw new IllegalStateException("vision returned " + out.size() + " rows for " + batch);
    }
  }

  private static double[] time(int warmup, int reps, Runnable body) {
    for (int i = 0; i < warmup; i++) {
      body.run();
    }
    double[] ms = new double[reps];
    for (int i = 0; i < reps; i++) {
      long start = System.nanoTime();
      body.run();
      ms[i] = (System.nanoTime() - start) / 1e6;
    }
    return ms;
  }

  static double median(double[] values) {
    double[] s = values.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** A field of /proc/self/status in MiB (Linux); -1 where it cannot be read. */
  static double rssMib(String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          String kb = line.substring(field.length() + 1).trim().split("\\s+")[0];
          return Long.parseLong(kb) / 1024.0;
        }
      }
      return -1;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String ortVersion() {
    try {
      return ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  /** Command-line options. */
  private record Args(
      Path bundle,
      int[] batches,
      int maxNewTokens,
      int warmup,
      int reps,
      int intraOp,
      int interOp) {
    static Args parse(String[] args) {
      Path bundle = null;
      int[] batches = {1, 4, 8};
      int maxNew = 16;
      int warmup = 1;
      int reps = 3;
      int intra = 2;
      int inter = 1;
      for (int i = 0; i < args.length; i++) {
        String value = i + 1 < args.length ? args[i + 1] : null;
        if (value == null) {
          throw new IllegalArgumentException("option " + args[i] + " needs a value");
        }
        switch (args[i++]) {
          case "--bundle" -> bundle = Path.of(value);
          case "--batches" ->
              batches = Arrays.stream(value.split(",")).mapToInt(Integer::parseInt).toArray();
          case "--max-new-tokens" -> maxNew = Integer.parseInt(value);
          case "--warmup" -> warmup = Integer.parseInt(value);
          case "--reps" -> reps = Integer.parseInt(value);
          case "--intra-op" -> intra = Integer.parseInt(value);
          case "--inter-op" -> inter = Integer.parseInt(value);
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + args[i - 1]
                      + "; expected --bundle, --batches, --max-new-tokens, --warmup, --reps,"
                      + " --intra-op, --inter-op");
        }
      }
      if (bundle == null) {
        throw new IllegalArgumentException("--bundle DIR is required");
      }
      if (reps < 1 || warmup < 0) {
        throw new IllegalArgumentException("need --reps >= 1 and --warmup >= 0");
      }
      return new Args(bundle, batches, maxNew, warmup, reps, intra, inter);
    }
  }

  /** Just enough JSON for flat objects of strings, numbers and numeric arrays. */
  static final class Json {
    private final StringJoiner fields = new StringJoiner(", ", "{", "}");

    Json put(String key, Object value) {
      fields.add(quote(key) + ": " + render(value));
      return this;
    }

    /** A value already in JSON. */
    Json putRaw(String key, String json) {
      fields.add(quote(key) + ": " + json);
      return this;
    }

    private static String render(Object value) {
      if (value instanceof String s) {
        return quote(s);
      }
      if (value instanceof Double d) {
        return String.format(Locale.ROOT, "%.4f", d);
      }
      if (value instanceof Number n) {
        return n.toString();
      }
      StringJoiner j = new StringJoiner(", ", "[", "]");
      if (value instanceof double[] ds) {
        for (double d : ds) {
          j.add(String.format(Locale.ROOT, "%.4f", d));
        }
      } else if (value instanceof float[] fs) {
        for (float f : fs) {
          j.add(Float.toString(f));
        }
      } else if (value instanceof long[] ls) {
        for (long l : ls) {
          j.add(Long.toString(l));
        }
      } else {
        throw new IllegalArgumentException("cannot render " + value);
      }
      return j.toString();
    }

    private static String quote(String s) {
      StringBuilder b = new StringBuilder("\"");
      for (char c : s.toCharArray()) {
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          default -> {
            if (c < 0x20) {
              b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
      return b.append('"').toString();
    }

    @Override
    public String toString() {
      return fields.toString();
    }
  }

  /** Serving mode: requests with arrival times through the whole engine. */
  static final class Serving {
    private Serving() {}

    static void main(String[] args) throws Exception {
      Path bundle = null;
      Path workloadFile = null;
      int intra = 2;
      int inter = 1;
      for (int i = 0; i + 1 < args.length; i += 2) {
        switch (args[i]) {
          case "--bundle" -> bundle = Path.of(args[i + 1]);
          case "--workload" -> workloadFile = Path.of(args[i + 1]);
          case "--intra-op" -> intra = Integer.parseInt(args[i + 1]);
          case "--inter-op" -> inter = Integer.parseInt(args[i + 1]);
          default ->
              throw new IllegalArgumentException(
                  "unknown option "
                      + args[i]
                      + "; expected --bundle, --workload, --intra-op, --inter-op");
        }
      }
      if (bundle == null || workloadFile == null) {
        throw new IllegalArgumentException("--serving needs --bundle DIR and --workload FILE");
      }
      JsonNode w = new ObjectMapper().readTree(workloadFile.toFile());
      // Static first: continuous then also runs at static's own 50 % rate, so that the two p99s
      // are compared at the same offered traffic as well as at each one's own half load.
      double staticSaturation = Double.NaN;
      for (EngineConfig.Scheduler scheduler :
          List.of(EngineConfig.Scheduler.STATIC, EngineConfig.Scheduler.CONTINUOUS)) {
        boolean continuous = scheduler == EngineConfig.Scheduler.CONTINUOUS;
        EngineConfig config =
            EngineConfig.builder()
                .intraOpThreads(intra)
                .interOpThreads(inter)
                .maxBatchSize(w.get("max_batch").asInt())
                .maxBatchWait(Duration.ofMillis(w.get("max_wait_ms").asLong()))
                .queueCapacity(w.get("requests").size() + 16)
                .scheduler(scheduler)
                // Static is the engine as it was: no image-prefix reuse either.
                .prefixCacheBytes(continuous ? EngineConfig.defaults().prefixCacheBytes() : 0)
                .build();
        String impl = continuous ? "java-continuous" : "java-static";
        try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(bundle, config)) {
          System.out.println(
              new Json()
                  .put("kind", "setup")
                  .put("impl", impl)
                  .put("runtime", "onnxruntime-java " + ortVersion())
                  .put("intra_op_threads", intra)
                  .put("inter_op_threads", inter)
                  .put("loadavg", loadAverage()));
          int pixelCount = 3 * imageSize(bundle) * imageSize(bundle);
          int n = w.get("requests").size();
          run(engine, w, new double[14], 0, pixelCount, 14); // warm-up, untimed
          Run sat = run(engine, w, new double[n], 1, pixelCount, n);
          System.out.println(sat.summary(impl, "saturation", Double.NaN, w));
          Json tokens = new Json().put("kind", "tokens").put("impl", impl);
          System.out.println(tokens.putRaw("tokens", sat.tokensJson()));
          Map<String, Double> loads = new LinkedHashMap<>();
          loads.put("50%", 0.5 * sat.rps());
          loads.put("80%", 0.8 * sat.rps());
          if (continuous && !Double.isNaN(staticSaturation)) {
            loads.put("50% of static", 0.5 * staticSaturation);
          } else if (!continuous) {
            staticSaturation = sat.rps();
          }
          int runIndex = 2;
          for (var load : loads.entrySet()) {
            double rate = load.getValue();
            double[] arrivals = new double[n];
            double t = 0;
            for (int i = 0; i < n; i++) {
              if (i > 0) {
                t += w.get("gaps").get(i).asDouble() / rate;
              }
              arrivals[i] = t;
            }
            Run r = run(engine, w, arrivals, runIndex++, pixelCount, n);
            System.out.println(r.summary(impl, load.getKey(), rate, w));
          }
          System.out.flush();
        }
      }
    }

    private static int imageSize(Path bundle) {
      return ModelBundle.load(bundle).manifest().vision().imageSize();
    }

    record Run(double[] latencies, double duration, Map<String, long[]> tokens, long kvPeak) {
      double rps() {
        return latencies.length / duration;
      }

      String tokensJson() {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        tokens.forEach(
            (id, t) -> {
              StringJoiner a = new StringJoiner(", ", "[", "]");
              for (long x : t) {
                a.add(Long.toString(x));
              }
              j.add(Json.quote(id) + ": " + a);
            });
        return j.toString();
      }

      Json summary(String impl, String load, double offered, JsonNode w) {
        double[] ms = latencies.clone();
        for (int i = 0; i < ms.length; i++) {
          ms[i] *= 1000;
        }
        Arrays.sort(ms);
        long generated = 0;
        for (int i = 0; i < latencies.length; i++) {
          generated += w.get("requests").get(i).get("new_tokens").asLong();
        }
        return new Json()
            .put("kind", "serving")
            .put("impl", impl)
            .put("load", load)
            .putRaw("offered_rps", Double.isNaN(offered) ? "null" : Double.toString(offered))
            .put("requests", latencies.length)
            .put("duration_s", duration)
            .put("rps", rps())
            .put("tokens_per_s", generated / duration)
            .put("p50_ms", percentile(ms, 50))
            .put("p99_ms", percentile(ms, 99))
            .put("peak_rss_mib", rssMib("VmHWM"))
            .put("kv_bytes_peak", kvPeak)
            .put("loadavg", loadAverage());
      }
    }

    /** numpy's default (linear) percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
      double pos = (sorted.length - 1) * p / 100.0;
      int lo = (int) Math.floor(pos);
      int hi = Math.min(lo + 1, sorted.length - 1);
      return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /** Submits the first {@code n} requests at their arrival offsets; images of run {@code run}. */
    static Run run(
        BatchingInferenceEngine engine,
        JsonNode w,
        double[] arrivals,
        int run,
        int pixelCount,
        int n)
        throws Exception {
      Map<Integer, float[]> images = new HashMap<>();
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        JsonNode r = w.get("requests").get(i);
        int image = r.get("upload").asInt() + 100 * run;
        int newTokens = r.get("new_tokens").asInt();
        requests.add(
            GenerationRequest.ofPixels(
                r.get("id").asText(),
                images.computeIfAbsent(image, k -> pixels(k, pixelCount)),
                null,
                r.get("question").isNull() ? null : r.get("question").asText(),
                List.of(),
                DecodingOptions.greedy().withMaxNewTokens(newTokens).withMinNewTokens(newTokens),
                0));
      }
      long[] done = new long[n];
      List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
      long kvPeak = 0;
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long due = t0 + (long) (arrivals[i] * 1e9);
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
          kvPeak = Math.max(kvPeak, engine.stats().kvBytesInUse());
          LockSupport.parkNanos(Math.min(wait, 1_000_000));
        }
        int index = i;
        futures.add(
            engine.submit(requests.get(i)).whenComplete((r, e) -> done[index] = System.nanoTime()));
      }
      for (var f : futures) {
        while (!f.isDone()) {
          kvPeak = Math.max(kvPeak, engine.stats().kvBytesInUse());
          LockSupport.parkNanos(1_000_000);
        }
      }
      Map<String, long[]> tokens = new LinkedHashMap<>();
      double[] latencies = new double[n];
      long last = t0;
      for (int i = 0; i < n; i++) {
        GenerationResult r = futures.get(i).get();
        tokens.put(r.requestId(), r.tokenIds());
        latencies[i] = (done[i] - t0) / 1e9 - arrivals[i];
        last = Math.max(last, done[i]);
      }
      return new Run(latencies, (last - t0) / 1e9, tokens, kvPeak);
    }
  }
}
