package io.shoplens.processor.inference.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import ai.onnxruntime.OrtProvider;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Blip2GraphsTest {
  @TempDir Path temp;

  @Test
  void shouldOpenGraphsThatAgreeWithTheManifestAndRunVision() {
    ModelBundle bundle = ModelBundle.load(TinyBundle.dir());
    try (Blip2Graphs graphs = Blip2Graphs.open(bundle, EngineConfig.defaults())) {
      ModelManifest m = bundle.manifest();
      float[] pixels = TinyBundle.pixelValues("photo.jpg");

      float[] embeds = graphs.vision(pixels, 1);

      assertThat(embeds).hasSize(m.numQueryTokens() * m.text().hiddenSize());
    }
  }

  @Test
  void shouldRejectAGraphWhoseDimensionsDisagreeWithTheManifest() throws IOException {
    // Given a manifest claiming 8 heads of 2 (same hidden size, so the manifest is consistent)
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    ObjectMapper json = new ObjectMapper();
    ObjectNode manifest = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
    ObjectNode text = (ObjectNode) manifest.get("text");
    int hidden = text.get("hidden_size").asInt();
    text.put("num_heads", hidden / 2).put("head_dim", 2);
    json.writeValue(dir.resolve("manifest.json").toFile(), manifest);
    ModelBundle bundle = ModelBundle.load(dir);

    // When the graphs are opened, then the decoder's KV shapes are found to disagree
    assertThatThrownBy(() -> Blip2Graphs.open(bundle, EngineConfig.defaults()))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("decoder.onnx")
        .hasMessageContaining("input 'past_key_values.0.key': expected FLOAT [?, " + hidden / 2)
        .hasMessageContaining("from manifest.json, found FLOAT");
  }

  @Test
  void givenAManifestSayingFloat16OverFloat32GraphsWhenOpenedThenTheTypeMismatchIsNamed()
      throws IOException {
    // Given the float32 bundle whose manifest claims float16
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    ObjectMapper json = new ObjectMapper();
    ObjectNode manifest = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
    manifest.put("dtype", "float16");
    json.writeValue(dir.resolve("manifest.json").toFile(), manifest);
    ModelBundle bundle = ModelBundle.load(dir);

    // When the graphs are opened, then the first graph's input type is found to disagree
    assertThatThrownBy(() -> Blip2Graphs.open(bundle, EngineConfig.defaults()))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("vision.onnx")
        .hasMessageContaining("input 'pixel_values': expected FLOAT16 [?, 3,")
        .hasMessageContaining("found FLOAT [");
  }

  @Test
  void givenAFloat16BundleWhenAStepRunsThenTheKvCacheHoldsTwoBytesPerValue() {
    // Given the float16 fixture's graphs
    ModelBundle bundle = ModelBundle.load(Path.of("src/test/resources/models/tiny-blip2-opt-f16"));
    ModelManifest.Text t = bundle.manifest().text();
    try (Blip2Graphs graphs = Blip2Graphs.open(bundle, EngineConfig.defaults())) {
      float[] query = graphs.vision(TinyBundle.pixelValues("photo.jpg"), 1);
      int q = bundle.manifest().numQueryTokens();
      long[] mask = new long[q];
      long[] positions = new long[q];
      for (int i = 0; i < q; i++) {
        mask[i] = 1;
        positions[i] = i;
      }
      KvCache cache = graphs.newCache(1, q);
      float[] logits = new float[t.vocabSize()];

      // When the image positions are prefilled
      graphs.decode(query, q, mask, positions, cache, logits);

      // Then the cache holds float16 keys and values, and its rows widen to exact float16 values
      assertThat(cache.bytesPerToken())
          .isEqualTo(2L * t.numLayers() * t.numHeads() * t.headDim() * 2);
      assertThat(cache.bytesInUse()).isEqualTo(q * cache.bytesPerToken());
      float[] row = cache.row(0);
      assertThat(row).hasSize(2 * t.numLayers() * t.numHeads() * q * t.headDim());
      for (float v : row) {
        assertThat(
                ai.onnxruntime.platform.Fp16Conversions.fp16ToFloat(
                    ai.onnxruntime.platform.Fp16Conversions.floatToFp16(v)))
            .isEqualTo(v);
      }
      for (float v : logits) {
        assertThat(v).isFinite();
      }
      graphs.recycle(cache);
    }
  }

  @Test
  void shouldRejectAManifestWithMoreLayersThanTheDecoder() throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    ObjectMapper json = new ObjectMapper();
    ObjectNode manifest = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
    ObjectNode text = (ObjectNode) manifest.get("text");
    int layers = text.get("num_layers").asInt();
    text.put("num_layers", layers + 1);
    json.writeValue(dir.resolve("manifest.json").toFile(), manifest);
    ModelBundle bundle = ModelBundle.load(dir);

    assertThatThrownBy(() -> Blip2Graphs.open(bundle, EngineConfig.defaults()))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("decoder.onnx")
        .hasMessageContaining("expected input 'past_key_values." + layers + ".key'");
  }

  @Test
  void shouldFailClearlyWhenCudaIsRequestedFromTheCpuBuild() {
    assumeFalse(
        OrtRuntime.availableProviders().contains(OrtProvider.CUDA),
        "this ONNX Runtime has CUDA (built with -Pcuda): the CPU-build case does not apply");
    ModelBundle bundle = ModelBundle.load(TinyBundle.dir());
    EngineConfig cuda =
        EngineConfig.builder()
            .executionProvider(EngineConfig.ExecutionProvider.CUDA)
            .cudaDeviceId(0)
            .build();

    assertThatThrownBy(() -> Blip2Graphs.open(bundle, cuda))
        .isInstanceOf(EngineStartupException.class)
        .hasMessageContaining("execution provider CUDA (device 0) was requested")
        .hasMessageContaining("CPU build")
        .hasMessageContaining("-Pcuda");
  }

  @Test
  void shouldWrapOnnxRuntimeErrorsNamingModelGraphAndInputShapes() {
    ModelBundle bundle = ModelBundle.load(TinyBundle.dir());
    ModelManifest m = bundle.manifest();
    try (Blip2Graphs graphs = Blip2Graphs.open(bundle, EngineConfig.defaults())) {
      KvCache cache = graphs.newCache(1, 4);
      float[] embeds = new float[m.text().hiddenSize()];
      // A position far beyond the position table makes the decoder's Gather fail inside ORT.
      long[] positions = {1_000_000};

      assertThatThrownBy(
              () -> graphs.decode(embeds, 1, new long[] {1}, positions, cache, new float[600]))
          .isInstanceOf(InferenceException.class)
          .hasMessageContaining("model " + m.modelVersion())
          .hasMessageContaining("decoder.onnx failed on inputs")
          .hasMessageContaining("position_ids[1, 1] INT64")
          .hasMessageContaining("past_key_values.0.key[1, " + m.text().numHeads() + ", 0, ");
    }
  }

  @Test
  void shouldReuseRecycledCacheBuffersWithoutChangingResults() {
    ModelBundle bundle = ModelBundle.load(TinyBundle.dir());
    ModelManifest m = bundle.manifest();
    int hidden = m.text().hiddenSize();
    int vocab = m.text().vocabSize();
    try (Blip2Graphs graphs = Blip2Graphs.open(bundle, EngineConfig.defaults())) {
      // Given a two-row cache that ran a prefill and a step (its buffers now hold data), recycled
      float[] prompt = new float[2 * 3 * hidden];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = (float) Math.sin(i);
      }
      long[] mask = {1, 1, 1, 1, 1, 1};
      long[] positions = {0, 1, 2, 0, 1, 2};
      KvCache first = graphs.newCache(2, 8);
      float[] firstLogits = new float[2 * vocab];
      graphs.decode(prompt, 3, mask, positions, first, firstLogits);
      graphs.decode(
          new float[2 * hidden],
          1,
          new long[] {1, 1, 1, 1, 1, 1, 1, 1},
          new long[] {3, 3},
          first,
          new float[2 * vocab]);
      graphs.recycle(first);

      // When a smaller cache is made and row 0's prompt is run again
      KvCache second = graphs.newCache(1, 4);
      float[] secondLogits = new float[vocab];
      graphs.decode(
          Arrays.copyOf(prompt, 3 * hidden),
          3,
          new long[] {1, 1, 1},
          new long[] {0, 1, 2},
          second,
          secondLogits);

      // Then it used the recycled buffers, and their old contents did not leak into the result
      assertThat(second.storage()).isSameAs(first.storage());
      assertThat(secondLogits).containsExactly(Arrays.copyOf(firstLogits, vocab));
      // and a cache larger than the recycled buffers gets its own
      graphs.recycle(second);
      assertThat(graphs.newCache(4, 8).storage()).isNotSameAs(first.storage());
    }
  }
}
