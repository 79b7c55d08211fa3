package io.shoplens.processor.topology;

import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.FinishReason;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.StageTimings;
import io.shoplens.processor.inference.image.ImageDecoder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A fast, deterministic engine stand-in for topology tests (and only those): it decodes the image
 * header with the real {@link ImageDecoder} (so corrupt and oversized images fail as with the real
 * engine) and answers with text that shows what it was asked, e.g. {@code answer[what colour?|1]}
 * for a question after one earlier turn.
 *
 * <p>In {@linkplain #hold() hold} mode futures stay open until {@link #releaseAll()}, to model
 * inference that is still running.
 */
final class FakeEngine implements InferenceEngine {
  static final String VERSION = "fake-model-v1";

  final List<GenerationRequest> submitted = new CopyOnWriteArrayList<>();
  private final List<Pending> held = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  private volatile Predicate<GenerationRequest> failing = r -> false;
  private volatile boolean hold;

  private record Pending(GenerationRequest request, CompletableFuture<GenerationResult> future) {}

  FakeEngine hold() {
    hold = true;
    return this;
  }

  /** Requests matching {@code which} fail with an InferenceException {@code times} times each. */
  FakeEngine failing(Predicate<GenerationRequest> which, int times) {
    failing = which;
    failuresLeft.clear();
    this.times = times;
    return this;
  }

  private volatile int times;

  /** Completes every held request and stops holding. */
  void releaseAll() {
    hold = false;
    List<Pending> now = new ArrayList<>(held);
    held.clear();
    for (Pending p : now) {
      complete(p.request(), p.future());
    }
  }

  int heldCount() {
    return held.size();
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    submitted.add(request);
    CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    if (hold) {
      held.add(new Pending(request, future));
    } else {
      complete(request, future);
    }
    return future;
  }

  private void complete(GenerationRequest request, CompletableFuture<GenerationResult> future) {
    try {
      future.complete(run(request));
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
  }

  private GenerationResult run(GenerationRequest request) {
    new ImageDecoder().decode(request.image());
    if (failing.test(request)) {
      AtomicInteger left =
          failuresLeft.computeIfAbsent(request.requestId(), k -> new AtomicInteger(times));
      if (left.getAndDecrement() > 0) {
        throw new InferenceException("injected model failure for " + request.requestId());
      }
    }
    return result(request);
  }

  /** What this engine returns for a request: what the test expects. */
  static GenerationResult result(GenerationRequest request) {
    String text =
        request.question() == null
            ? "caption of " + request.image().length + " bytes"
            : "answer[" + request.question() + "|" + request.history().size() + "]";
    Duration ms = Duration.ofMillis(1);
    return new GenerationResult(
        request.requestId(),
        VERSION,
        text,
        new long[] {7, 2},
        FinishReason.STOP,
        40,
        2,
        Float.NaN,
        List.of(),
        new StageTimings(ms, ms, ms, ms),
        false);
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
