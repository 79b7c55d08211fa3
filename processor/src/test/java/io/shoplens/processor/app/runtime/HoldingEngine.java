package io.shoplens.processor.app.runtime;

import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.FinishReason;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.StageTimings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** A fake engine that either answers at once or holds every request until closed. */
final class HoldingEngine implements InferenceEngine {
  private final boolean hold;
  final Map<String, CompletableFuture<GenerationResult>> requests = new ConcurrentHashMap<>();
  volatile boolean closed;

  HoldingEngine(boolean hold) {
    this.hold = hold;
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    if (closed) {
      return CompletableFuture.failedFuture(new RequestRejectedException("closed"));
    }
    CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    requests.put(request.requestId(), future);
    if (!hold) {
      Duration z = Duration.ZERO;
      future.complete(
          new GenerationResult(
              request.requestId(),
              modelVersion(),
              "a fake caption",
              new long[] {5, 2},
              FinishReason.STOP,
              12,
              2,
              Float.NaN,
              List.of(),
              new StageTimings(z, z, z, z),
              false));
    }
    return future;
  }

  @Override
  public EngineStats stats() {
    return EngineStats.empty();
  }

  @Override
  public String modelVersion() {
    return "fake-1";
  }

  @Override
  public void close() {
    closed = true;
    requests.values().forEach(f -> f.completeExceptionally(new RequestRejectedException("closed")));
  }
}
