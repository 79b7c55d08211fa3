package io.shoplens.processor.bench;

import io.shoplens.processor.inference.Blip2Model;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

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
 * java -cp ... io.shoplens.processor.bench.EngineBenchmark --bundle DIR [--batches 1,4,8]
 *     [--max-new-tokens 16] [--warmup 1] [--reps 3] [--intra-op 2] [--inter-op 1]
 * </pre>
 */
public final class EngineBenchmark {
  /** The question every row asks (the Python side uses the same text). */
  public static final String QUESTION = "what is the colour of the dress?";

  private EngineBenchmark() {}

  public static void main(String[] args) {
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
}
