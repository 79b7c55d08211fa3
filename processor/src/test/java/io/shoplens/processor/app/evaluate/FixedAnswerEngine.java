package io.shoplens.processor.app.evaluate;

import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.FinishReason;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.StageTimings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An engine stand-in for evaluation tests: answers each question with the text a test gave for it
 * (captions under the key {@code caption}), and fails requests whose answer is {@value #FAIL}.
 */
final class FixedAnswerEngine implements InferenceEngine {
  static final String FAIL = "<fail>";

  final List<GenerationRequest> submitted = new CopyOnWriteArrayList<>();
  private final String version;
  private final Map<String, String> answers;

  FixedAnswerEngine(String version, Map<String, String> answers) {
    this.version = version;
    this.answers = Map.copyOf(answers);
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    submitted.add(request);
    String key = request.question() == null ? "caption" : request.question();
    String text = answers.get(key);
    if (text == null) {
      throw new IllegalStateException("the test gave no answer for '" + key + "'");
    }
    if (text.equals(FAIL)) {
      return CompletableFuture.failedFuture(new InferenceException("decoder failed for " + key));
    }
    Duration ms = Duration.ofMillis(1);
    return CompletableFuture.completedFuture(
        new GenerationResult(
            request.requestId(),
            version,
            text,
            new long[] {1},
            FinishReason.STOP,
            10,
            1,
            Float.NaN,
            List.of(),
            new StageTimings(ms, ms, ms, ms),
            false));
  }

  @Override
  public EngineStats stats() {
    return EngineStats.empty();
  }

  @Override
  public String modelVersion() {
    return version;
  }

  @Override
  public void close() {}
}
