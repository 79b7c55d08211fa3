package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A question that sets no seed is sampled with one derived from its question id, so that a replay
 * of the same question (another run, another application id, another offset) samples the same
 * tokens.
 */
class QuestionSeedTest {
  private final String scope = "seed-" + UUID.randomUUID();
  @TempDir Path stateDir;

  @AfterEach
  void dropRegistry() {
    MockSchemaRegistry.dropScope(scope);
  }

  private Map<String, Long> seedsSentFor(String... questionIds) {
    FakeEngine engine = new FakeEngine();
    ShopLensTopologyConfig config =
        ShopLensTopologyConfig.builder(TopologyHarness.serdeConfig(scope))
            .modelId("shoplens/fake")
            .imageTokens(10)
            .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
            .inFlightMaxBlock(Duration.ofMillis(20))
            .build();
    try (TopologyHarness t =
        new TopologyHarness(config, engine, ImageResolver.inlineOnly(10_000_000), stateDir)) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      for (String id : questionIds) {
        QuestionAsked q = TestEvents.question(id, "u1", "what is it?");
        q.setGenerationOptions(
            GenerationOptions.newBuilder().setStrategy(DecodingStrategy.SAMPLE).build());
        t.questions.pipeInput("u1", q);
      }
      t.tick();
      Map<String, Long> reported =
          t.answers.readValuesToList().stream()
              .collect(
                  Collectors.toMap(
                      QuestionAnswered::getQuestionId, a -> a.getGenerationOptions().getSeed()));
      assertThat(
              engine.submitted.stream()
                  .filter(r -> r.requestId().endsWith("/answer"))
                  .map(GenerationRequest::seed))
          .as("the engine got the seeds the answers report")
          .containsExactlyInAnyOrderElementsOf(reported.values());
      return reported;
    }
  }

  @Test
  void shouldDeriveSamplingSeedFromQuestionIdWhenQuestionSetsNone() {
    // Given the same question id at another offset (after another question), in a fresh run
    Map<String, Long> first = seedsSentFor("q1", "q2");
    Map<String, Long> replayed = seedsSentFor("q3", "q2", "q1");

    // Then each question gets the seed of its id, whatever its position; ids differ, seeds differ
    assertThat(replayed.get("q1"))
        .isEqualTo(first.get("q1"))
        .isEqualTo(InferenceEvents.seed(null, "q1"));
    assertThat(replayed.get("q2")).isEqualTo(first.get("q2"));
    assertThat(first.get("q1")).isNotEqualTo(first.get("q2"));
  }
}
