package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.events.Attribute;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.Turn;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology, unchanged, on the committed tiny BLIP-2 T5 bundle (TopologyTestDriver, real
 * engine): captions with their attributes, answers, a conversation in LAVIS's multi-turn template,
 * and a dead letter for a prompt longer than the T5 encoder accepts, while the rest keeps flowing.
 * Recommendations on the same bundle: {@code TinyModelRecommendationsTest}.
 */
class T5TopologyTest {
  static final Path T5_BUNDLE = Path.of("src/test/resources/models/tiny-blip2-t5");
  private static BatchingInferenceEngine engine;
  private final String scope = "t5-topology-" + UUID.randomUUID();

  @TempDir Path stateDir;

  @BeforeAll
  static void start() {
    engine =
        BatchingInferenceEngine.start(
            T5_BUNDLE,
            EngineConfig.builder()
                .intraOpThreads(1)
                .interOpThreads(1)
                .maxBatchSize(8)
                .maxBatchWait(Duration.ofMillis(2))
                .build());
  }

  @AfterAll
  static void stop() {
    engine.close();
  }

  @AfterEach
  void dropRegistry() {
    MockSchemaRegistry.dropScope(scope);
  }

  private ShopLensTopologyConfig config() {
    return ShopLensTopologyConfig.builder(TopologyHarness.serdeConfig(scope))
        .modelId("shoplens/tiny-blip2-t5")
        .imageTokens(10)
        .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
        .captionOptions(DecodingOptions.greedy().withMaxNewTokens(6))
        .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
        .answerOptions(DecodingOptions.greedy().withMaxNewTokens(5))
        // Long enough that the engine, not validation, is what refuses the long question below.
        .maxQuestionChars(4000)
        .build();
  }

  @Test
  void shouldCaptionAndAnswerOnAT5BundleExactlyAsTheEngineAloneDoes() throws Exception {
    ShopLensTopologyConfig config = config();
    try (TopologyHarness h =
        new TopologyHarness(config, engine, ImageResolver.inlineOnly(10_000_000), stateDir)) {
      // Given two uploads, a question on each and a conversation of two turns on the first
      Map<String, byte[]> images = new LinkedHashMap<>();
      images.put("up-photo", TestEvents.image("photo.jpg"));
      images.put("up-wide", TestEvents.image("wide.png"));
      images.forEach((id, bytes) -> h.uploads.pipeInput(id, TestEvents.upload(id, bytes)));
      List<QuestionAsked> questions =
          List.of(
              TestEvents.question("q0", "up-photo", "what is it?"),
              TestEvents.question("q1", "up-wide", "is it red?"),
              TestEvents.question("q2", "up-photo", "c-1", "what is this?"),
              TestEvents.question("q3", "up-photo", "c-1", "what color is it?"));

      // When they are processed (the conversation's turns one after the other)
      Map<String, ImageCaptioned> captions = new HashMap<>();
      Map<String, QuestionAnswered> answers = new HashMap<>();
      for (QuestionAsked q : questions) {
        h.questions.pipeInput(q.getUploadId(), q);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  h.tick();
                  h.captions.readValuesToList().forEach(c -> captions.put(c.getUploadId(), c));
                  h.answers.readValuesToList().forEach(a -> answers.put(a.getQuestionId(), a));
                  return answers.containsKey(q.getQuestionId());
                });
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                h.tick();
                h.captions.readValuesToList().forEach(c -> captions.put(c.getUploadId(), c));
                return captions.size() == images.size();
              });

      // Then captions, attributes and answers are the engine's own, stamped with the T5 model
      for (Map.Entry<String, byte[]> e : images.entrySet()) {
        ImageCaptioned c = captions.get(e.getKey());
        assertThat(c.getCaption())
            .isEqualTo(
                run(GenerationRequest.caption("x", e.getValue(), config.captionOptions(), 0))
                    .text());
        assertThat(c.getModel().getModelVersion()).isEqualTo(engine.modelVersion());
        assertThat(c.getModel().getModelId()).isEqualTo("shoplens/tiny-blip2-t5");
        List<String> attributes = new ArrayList<>();
        for (ShopLensTopologyConfig.AttributePrompt p : config.attributePrompts()) {
          attributes.add(
              run(GenerationRequest.question(
                      "x", e.getValue(), p.question(), List.of(), config.attributeOptions(), 0))
                  .text());
        }
        assertThat(c.getAttributes()).extracting(Attribute::getValue).isEqualTo(attributes);
      }
      List<Turn> turns = new ArrayList<>();
      for (QuestionAsked q : questions) {
        boolean inConversation = q.getConversationId() != null;
        GenerationResult expected =
            run(
                GenerationRequest.question(
                    "x",
                    images.get(q.getUploadId()),
                    q.getText(),
                    inConversation ? turns : List.of(),
                    config.answerOptions(),
                    0));
        QuestionAnswered a = answers.get(q.getQuestionId());
        assertThat(a.getAnswer()).as(q.getQuestionId()).isEqualTo(expected.text());
        // (the event counts the text tokens: the encoder input less its image tokens)
        assertThat(a.getTokenCounts().getPromptTokens())
            .isEqualTo(expected.promptTokens() - config.imageTokens());
        if (inConversation) {
          turns.add(new Turn(q.getText(), expected.text()));
        }
      }
      // and the second turn's encoder input held the first turn (LAVIS's template): it is longer
      assertThat(answers.get("q3").getTokenCounts().getPromptTokens() + config.imageTokens())
          .isGreaterThan(
              run(GenerationRequest.question(
                      "x",
                      images.get("up-photo"),
                      "what color is it?",
                      List.of(),
                      config.answerOptions(),
                      0))
                  .promptTokens());
      assertThat(h.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldDeadLetterAQuestionLongerThanTheT5EncoderAcceptsAndKeepAnswering() {
    try (TopologyHarness h =
        new TopologyHarness(config(), engine, ImageResolver.inlineOnly(10_000_000), stateDir)) {
      // Given an upload, a question too long for the encoder, then a good question
      h.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.image("photo.jpg")));
      h.questions.pipeInput(
          "u1", TestEvents.question("q-long", "u1", "what colour is the dress? ".repeat(120)));
      h.questions.pipeInput("u1", TestEvents.question("q-ok", "u1", "what is it?"));

      // When processed
      List<QuestionAnswered> answers = new ArrayList<>();
      List<DeadLetter> deadLetters = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                h.tick();
                answers.addAll(h.answers.readValuesToList());
                deadLetters.addAll(h.deadLetters.readValuesToList());
                return !answers.isEmpty() && !deadLetters.isEmpty();
              });

      // Then the long one is dead-lettered with the reason (a bad prompt, as for OPT), and the
      // good one answered
      assertThat(deadLetters).hasSize(1);
      assertThat(deadLetters.get(0).getStage()).isEqualTo(ProcessingStage.PREPROCESS);
      assertThat(deadLetters.get(0).getErrorMessage())
          .contains("longer than the T5 encoder accepts (512 tokens)");
      assertThat(answers).extracting(QuestionAnswered::getQuestionId).containsExactly("q-ok");
    }
  }

  private static GenerationResult run(GenerationRequest request) throws Exception {
    return engine.submit(request).get(60, TimeUnit.SECONDS);
  }
}
