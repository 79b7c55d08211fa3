package io.shoplens.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.bench.EngineBenchmark.Json;
import io.shoplens.processor.inference.Blip2Model;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.onnx.KvCache;
import io.shoplens.processor.inference.onnx.OrtRuntime;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The GPU check, for a machine with an NVIDIA GPU and a {@code -Pcuda} build: the CUDA execution
 * provider loads, gives the CPU's greedy tokens (and Hugging Face's) on every greedy case of the
 * tiny bundle's {@code reference.json}, and what the missing IOBinding costs. ONNX Runtime's Java
 * API cannot keep tensors on the GPU between runs, so every decoder step copies the whole KV cache
 * host-to-device and the present cache and logits back: this prints those bytes per step, the
 * measured host-device round-trip bandwidth (a one-op {@code Neg} graph on buffers of several
 * sizes), decoder step times on CPU and GPU at several past lengths, and the projected copy time
 * per step at the {@code bench} preset's shapes (OPT-125m: 12 layers, 12 heads, head dim 64).
 *
 * <pre>
 * ./mvnw -Pcuda -Dshoplens.target=target-cuda -pl processor -am test-compile
 * CLASSPATH=... java io.shoplens.bench.CudaCheck
 *     [--bundle processor/src/test/resources/models/tiny-blip2-opt] [--device 0] [--steps 20]
 * </pre>
 *
 * <p>JSON lines on stdout. Exit status: 0 all tokens identical; 1 a token differs; 2 CUDA is
 * unavailable (the line says why).
 */
public final class CudaCheck {
  /** A one-node ONNX graph, y = Neg(x) over a float vector of any length (86 bytes, opset 18). */
  private static final String NEG_GRAPH =
      "CAgSE3Nob3BsZW5zLWN1ZGEtY2hlY2s6NwoLCgF4EgF5IgNOZWcSBGNvcHlaEAoBeBILCgkIARIFCgMSAW5iEAoBeRIL"
          + "CgkIARIFCgMSAW5CBAoAEBI=";

  private CudaCheck() {}

  public static void main(String[] args) throws IOException, OrtException {
    Path bundleDir = Path.of("processor/src/test/resources/models/tiny-blip2-opt");
    int device = 0;
    int steps = 20;
    boolean onCpu = false;
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--dry-run-on-cpu")) {
        // Runs every path with the CPU provider standing in for CUDA, to test this program
        // where there is no GPU; the numbers mean nothing.
        onCpu = true;
        i--;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--bundle" -> bundleDir = Path.of(args[i + 1]);
        case "--device" -> device = Integer.parseInt(args[i + 1]);
        case "--steps" -> steps = Integer.parseInt(args[i + 1]);
        default ->
            throw new IllegalArgumentException(
                "unknown option "
                    + args[i]
                    + "; expected --bundle, --device, --steps, --dry-run-on-cpu");
      }
    }
    Set<OrtProvider> providers = OrtRuntime.availableProviders();
    System.out.println(
        new Json()
            .put("kind", "environment")
            .put("onnxruntime", OrtEnvironment.getEnvironment().getVersion())
            .put("providers", providers.toString())
            .put("cuda_visible_devices", String.valueOf(System.getenv("CUDA_VISIBLE_DEVICES"))));
    EngineConfig cpuConfig = EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build();
    EngineConfig cudaConfig =
        onCpu
            ? cpuConfig
            : cpuConfig.toBuilder()
                .executionProvider(EngineConfig.ExecutionProvider.CUDA)
                .cudaDeviceId(device)
                .build();
    ModelBundle bundle = ModelBundle.load(bundleDir);
    boolean allSame = true;
    try (Blip2Model cpu = Blip2Model.open(bundle, cpuConfig);
        Blip2Model gpu = Blip2Model.open(bundle, cudaConfig)) {
      allSame = compareGreedyCases(bundleDir, cpu, gpu);
    } catch (EngineStartupException e) {
      System.out.println(
          new Json().put("kind", "error").put("reason", "CUDA unavailable: " + e.getMessage()));
      System.exit(2);
    }
    try (Blip2Graphs cpu = Blip2Graphs.open(bundle, cpuConfig);
        Blip2Graphs gpu = Blip2Graphs.open(bundle, cudaConfig)) {
      for (int past : new int[] {16, 64, 256}) {
        stepTimes(bundle.manifest(), cpu, gpu, 1, past, steps);
      }
    }
    double bytesPerSecond = copyBandwidth(device, onCpu);
    ModelManifest.Text bench = new ModelManifest.Text(768, 12, 12, 64, 50272, 2048);
    for (int batch : new int[] {1, 8}) {
      for (int past : new int[] {64, 128, 512}) {
        long bytes = stepCopyBytes(bench, batch, past);
        System.out.println(
            new Json()
                .put("kind", "bench_shape_copy")
                .put("batch", batch)
                .put("past", past)
                .put("bytes_per_step", bytes)
                .put("projected_copy_ms", 1000.0 * bytes / bytesPerSecond));
      }
    }
    System.out.println(new Json().put("kind", "verdict").put("tokens_identical", allSame ? 1 : 0));
    System.exit(allSame ? 0 : 1);
  }

  /** Runs every greedy case on both models; prints one line per case. */
  private static boolean compareGreedyCases(Path bundleDir, Blip2Model cpu, Blip2Model gpu)
      throws IOException {
    JsonNode reference = new ObjectMapper().readTree(bundleDir.resolve("reference.json").toFile());
    Set<Long> stops =
        Set.copyOf(
            cpu.manifest().tokens().stopTokenIds().stream().map(Integer::longValue).toList());
    boolean allSame = true;
    for (JsonNode c : reference.get("cases")) {
      JsonNode g = c.get("generation");
      if (g.path("do_sample").asBoolean(false) || g.path("num_beams").asInt(1) != 1) {
        continue;
      }
      DecodingOptions options =
          DecodingOptions.greedy().withMaxNewTokens(g.get("max_new_tokens").asInt());
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i = 0; i < c.get("images").size(); i++) {
        JsonNode values =
            reference.get("images").get(c.get("images").get(i).asText()).get("pixel_values");
        float[] pixels = new float[values.size()];
        for (int k = 0; k < pixels.length; k++) {
          pixels[k] = (float) values.get(k).asDouble();
        }
        JsonNode prompt = c.get("prompts").get(i);
        requests.add(
            GenerationRequest.ofPixels(
                c.get("name").asText() + "-" + i,
                pixels,
                prompt.isNull() ? null : prompt.asText(),
                null,
                List.of(),
                options,
                0));
      }
      List<GenerationResult> onCpu = cpu.generate(requests);
      List<GenerationResult> onGpu = gpu.generate(requests);
      for (int i = 0; i < requests.size(); i++) {
        long[] hf = untilStop(c.get("new_tokens").get(i), stops);
        boolean same = Arrays.equals(onCpu.get(i).tokenIds(), onGpu.get(i).tokenIds());
        allSame &= same;
        System.out.println(
            new Json()
                .put("kind", "greedy_case")
                .put("case", requests.get(i).requestId())
                .put("cpu_equals_cuda", same ? 1 : 0)
                .put("cuda_equals_hf", Arrays.equals(hf, onGpu.get(i).tokenIds()) ? 1 : 0)
                .put("cpu_tokens", onCpu.get(i).tokenIds())
                .put("cuda_tokens", onGpu.get(i).tokenIds()));
      }
    }
    return allSame;
  }

  /** Median decoder step time after a prefill of {@code past} tokens, CPU and CUDA. */
  private static void stepTimes(
      ModelManifest m, Blip2Graphs cpu, Blip2Graphs gpu, int batch, int past, int steps) {
    double[] medians = new double[2];
    Blip2Graphs[] graphs = {cpu, gpu};
    for (int g = 0; g < 2; g++) {
      SplittableRandom random = new SplittableRandom(7);
      int hidden = m.text().hiddenSize();
      KvCache cache = graphs[g].newCache(batch, past + steps + 1);
      float[] logits = new float[batch * m.text().vocabSize()];
      float[] prefill = randomFloats(random, batch * past * hidden);
      long[] mask = new long[batch * past];
      Arrays.fill(mask, 1);
      long[] positions = new long[batch * past];
      for (int i = 0; i < positions.length; i++) {
        positions[i] = i % past;
      }
      graphs[g].decode(prefill, past, mask, positions, cache, logits);
      double[] ms = new double[steps];
      for (int s = 0; s < steps; s++) {
        int total = cache.length() + 1;
        long[] stepMask = new long[batch * total];
        Arrays.fill(stepMask, 1);
        long[] stepPositions = new long[batch];
        Arrays.fill(stepPositions, total - 1);
        float[] embeds = randomFloats(random, batch * hidden);
        long start = System.nanoTime();
        graphs[g].decode(embeds, 1, stepMask, stepPositions, cache, logits);
        ms[s] = (System.nanoTime() - start) / 1e6;
      }
      medians[g] = EngineBenchmark.median(ms);
    }
    System.out.println(
        new Json()
            .put("kind", "decoder_step")
            .put("batch", batch)
            .put("past", past)
            .put("bytes_per_step", stepCopyBytes(m.text(), batch, past))
            .put("cpu_step_ms", medians[0])
            .put("cuda_step_ms", medians[1]));
  }

  /**
   * Bytes that cross between host and GPU in one decoder step without IOBinding: past key/values,
   * embeddings, mask and positions in; present key/values and logits out.
   */
  static long stepCopyBytes(ModelManifest.Text t, int batch, int past) {
    long kv = 2L * t.numLayers() * batch * t.numHeads() * t.headDim() * 4;
    long in = kv * past + 4L * batch * t.hiddenSize() + 8L * batch * (past + 1) + 8L * batch;
    long out = kv * (past + 1) + 4L * batch * t.vocabSize();
    return in + out;
  }

  /**
   * Host-GPU-host bytes per second through a one-op graph, at the largest size tried (64 MiB, the
   * size of a bench-shaped KV cache: smaller buffers overstate the bandwidth).
   */
  // The graph's output is only timed and closed, never read: its copy back is what is measured.
  @SuppressWarnings("try")
  private static double copyBandwidth(int device, boolean onCpu) throws OrtException {
    OrtEnvironment env = OrtRuntime.environment();
    double last = 0;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      if (!onCpu) {
        options.addCUDA(device);
      }
      try (OrtSession session = env.createSession(Base64.getDecoder().decode(NEG_GRAPH), options)) {
        for (int mib : new int[] {1, 4, 16, 64}) {
          int n = mib * (1 << 20) / 4;
          float[] data = new float[n];
          double[] ms = new double[10];
          for (int r = -2; r < ms.length; r++) {
            try (OnnxTensor x =
                OnnxTensor.createTensor(env, FloatBuffer.wrap(data), new long[] {n})) {
              long start = System.nanoTime();
              try (OrtSession.Result y = session.run(Map.of("x", x))) {
                if (r >= 0) {
                  ms[r] = (System.nanoTime() - start) / 1e6;
                }
              }
            }
          }
          double median = EngineBenchmark.median(ms);
          // The input goes in and the output comes back: twice the buffer crosses the bus.
          double bytesPerSecond = 2.0 * 4 * n / (median / 1000);
          last = bytesPerSecond;
          System.out.println(
              new Json()
                  .put("kind", "copy_bandwidth")
                  .put("mib_each_way", mib)
                  .put("round_trip_ms", median)
                  .put("gib_per_s", bytesPerSecond / (1L << 30)));
        }
      }
    }
    return last;
  }

  private static float[] randomFloats(SplittableRandom random, int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return out;
  }

  private static long[] untilStop(JsonNode tokens, Set<Long> stops) {
    List<Long> out = new ArrayList<>();
    for (JsonNode t : tokens) {
      out.add(t.asLong());
      if (stops.contains(t.asLong())) {
        break;
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }
}
