package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.testing.FakeEngine;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class CachingInferenceEngineTest {
  static final byte[] IMAGE = {1, 2, 3};
  static final byte[] OTHER_IMAGE = {4, 5, 6};

  /** Answers with a text made of the request's fields; records every request it receives. */
  static FakeEngine counting() {
    FakeEngine engine = new FakeEngine();
    return engine.answering(r -> r.question() + "#" + engine.submitted.size());
  }

  static GenerationRequest ask(String id, byte[] image, String q, DecodingOptions o, long seed) {
    return GenerationRequest.question(id, image, q, List.of(), o, seed);
  }

  @Test
  void shouldAnswerIdenticalGreedyRequestFromCacheWithCallersRequestIdWhateverItsSeed() {
    // Given
    FakeEngine inner = counting();
    try (CachingInferenceEngine engine = new CachingInferenceEngine(inner, 10)) {
      DecodingOptions greedy = DecodingOptions.greedy();

      // When
      GenerationResult first = engine.submit(ask("q1", IMAGE, "what?", greedy, 1)).join();
      GenerationResult second = engine.submit(ask("q2", IMAGE.clone(), "what?", greedy, 2)).join();

      // Then
      assertThat(inner.submitted).hasSize(1);
      assertThat(second.text()).isEqualTo(first.text());
      assertThat(second.requestId()).isEqualTo("q2");
      assertThat(first.requestId()).isEqualTo("q1");
      assertThat(engine.hits()).isEqualTo(1);
      assertThat(engine.misses()).isEqualTo(1);
    }
  }

  @Test
  void shouldComputeAgainWhenImagePromptOptionsHistoryOrSamplingSeedDiffer() {
    // Given
    FakeEngine inner = counting();
    try (CachingInferenceEngine engine = new CachingInferenceEngine(inner, 10)) {
      DecodingOptions greedy = DecodingOptions.greedy();
      DecodingOptions sampling = DecodingOptions.sampling();

      // When
      engine.submit(ask("a", IMAGE, "what?", greedy, 1)).join();
      engine.submit(ask("b", OTHER_IMAGE, "what?", greedy, 1)).join();
      engine.submit(ask("c", IMAGE, "which?", greedy, 1)).join();
      engine.submit(ask("d", IMAGE, "what?", greedy.withMaxNewTokens(5), 1)).join();
      engine
          .submit(
              GenerationRequest.question(
                  "e", IMAGE, "what?", List.of(new Turn("hi", "ho")), greedy, 1))
          .join();
      engine.submit(GenerationRequest.caption("f", IMAGE, greedy, 1)).join();
      engine.submit(ask("g", IMAGE, "what?", sampling, 1)).join();
      engine.submit(ask("h", IMAGE, "what?", sampling, 2)).join();
      engine.submit(ask("i", IMAGE, "what?", sampling, 1)).join();

      // Then: only the repeated sampling request with the same seed was a hit
      assertThat(inner.submitted)
          .extracting(GenerationRequest::requestId)
          .containsExactly("a", "b", "c", "d", "e", "f", "g", "h");
      assertThat(engine.hits()).isEqualTo(1);
    }
  }

  @Test
  void shouldJoinRunningIdenticalRequestAndNotKeepFailures() {
    // Given
    FakeEngine inner = counting();
    inner.hold();
    try (CachingInferenceEngine engine = new CachingInferenceEngine(inner, 10)) {
      DecodingOptions greedy = DecodingOptions.greedy();

      // When: two identical requests while the first is running, and it fails
      CompletableFuture<GenerationResult> a = engine.submit(ask("a", IMAGE, "q", greedy, 0));
      CompletableFuture<GenerationResult> b = engine.submit(ask("b", IMAGE, "q", greedy, 0));
      inner.failHeld(new InferenceException("boom", null));

      // Then: both fail, the model ran once, and the next identical request runs again
      assertThatThrownBy(a::join).isInstanceOf(CompletionException.class);
      assertThatThrownBy(b::join).hasCauseInstanceOf(InferenceException.class);
      assertThat(inner.submitted).hasSize(1);
      engine.submit(ask("c", IMAGE, "q", greedy, 0));
      assertThat(inner.submitted).hasSize(2);
      assertThat(engine.size()).isEqualTo(1);
    }
  }

  @Test
  void shouldEvictLeastRecentlyUsedBeyondCapacityAndCloseDelegate() {
    // Given
    FakeEngine inner = counting();
    CachingInferenceEngine engine = new CachingInferenceEngine(inner, 2);
    DecodingOptions greedy = DecodingOptions.greedy();

    // When
    engine.submit(ask("1", IMAGE, "a", greedy, 0)).join();
    engine.submit(ask("2", IMAGE, "b", greedy, 0)).join();
    engine.submit(ask("3", IMAGE, "a", greedy, 0)).join(); // hit: "a" is now the newest
    engine.submit(ask("4", IMAGE, "c", greedy, 0)).join(); // evicts "b"
    engine.submit(ask("5", IMAGE, "a", greedy, 0)).join(); // still cached
    engine.submit(ask("6", IMAGE, "b", greedy, 0)).join(); // computed again

    // Then
    assertThat(inner.submitted)
        .extracting(GenerationRequest::question)
        .containsExactly("a", "b", "c", "b");
    assertThat(engine.hits()).isEqualTo(2);
    engine.close();
    assertThat(inner.closed()).isTrue();
  }
}
