package io.shoplens.processor.topology.recommend;

import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.FinishReason;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.ImageEmbeddings;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A fast engine stand-in for recommendation tests: an "image" is UTF-8 text that says what the
 * model sees, e.g. {@code colour=navy blue;category=tee;vec=1,0,0}. Attribute questions are
 * answered with the named value (or "i don't know"), embeddings are the given vector normalised; an
 * image without {@code vec} fails to embed as a bad image would.
 */
final class SpecEngine implements InferenceEngine {
  static final String VERSION = "spec-model-v1";

  final List<String> embedded = new CopyOnWriteArrayList<>();
  private final Map<String, String> attributeByQuestion = new HashMap<>();

  SpecEngine(ShopLensTopologyConfig config) {
    for (ShopLensTopologyConfig.AttributePrompt p : config.attributePrompts()) {
      attributeByQuestion.put(p.question(), p.name());
    }
  }

  /** An image whose model view is {@code spec}. */
  static byte[] image(String spec) {
    return spec.getBytes(StandardCharsets.UTF_8);
  }

  static Map<String, String> parse(byte[] image) {
    Map<String, String> out = new HashMap<>();
    for (String part : new String(image, StandardCharsets.UTF_8).split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        out.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
      }
    }
    return out;
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    Map<String, String> spec = parse(request.image());
    String text;
    if (request.question() == null) {
      text = "a photo";
    } else {
      String attribute = attributeByQuestion.get(request.question());
      text = attribute == null ? "no idea" : spec.getOrDefault(attribute, "i don't know");
    }
    Duration ms = Duration.ofMillis(1);
    return CompletableFuture.completedFuture(
        new GenerationResult(
            request.requestId(),
            VERSION,
            text,
            new long[] {5},
            FinishReason.STOP,
            12,
            1,
            Float.NaN,
            List.of(),
            new io.shoplens.processor.inference.StageTimings(ms, ms, ms, ms),
            false));
  }

  @Override
  public CompletableFuture<float[]> embed(String requestId, byte[] image) {
    embedded.add(requestId);
    String vec = parse(image).get("vec");
    if (vec == null) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(requestId + ": not an image"));
    }
    String[] parts = vec.split(",");
    float[] v = new float[parts.length];
    for (int i = 0; i < v.length; i++) {
      v[i] = Float.parseFloat(parts[i]);
    }
    return CompletableFuture.completedFuture(ImageEmbeddings.normalized(v));
  }

  @Override
  public EngineStats stats() {
    return EngineStats.empty();
  }

  @Override
  public String modelVersion() {
    return VERSION;
  }

  @Override
  public void close() {}
}
