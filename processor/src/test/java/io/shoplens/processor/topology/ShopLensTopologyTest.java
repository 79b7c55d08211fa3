package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.events.Attribute;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShopLensTopologyTest {
  private final String scope = "topology-" + UUID.randomUUID();
  private final FakeEngine engine = new FakeEngine();
  @TempDir Path stateDir;

  @AfterEach
  void dropRegistry() {
    MockSchemaRegistry.dropScope(scope);
  }

  private ShopLensTopologyConfigBuilder config() {
    return ShopLensTopologyConfig.builder(TopologyHarness.serdeConfig(scope))
        .modelId("shoplens/fake")
        .imageTokens(10)
        .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
        .inFlightMaxBlock(Duration.ofMillis(20))
        .retryBackoff(Duration.ofMillis(100));
  }

  private TopologyHarness start(ShopLensTopologyConfig config) {
    return new TopologyHarness(config, engine, ImageResolver.inlineOnly(10_000_000), stateDir);
  }

  @Test
  void shouldCaptionUploadWithEveryAttributeModelVersionAndLineage() {
    try (TopologyHarness t = start(config().build())) {
      // Given an upload with an inline image
      byte[] image = TestEvents.goodImage();
      t.uploads.pipeInput("u1", TestEvents.upload("u1", image));

      // When the punctuator runs
      assertThat(t.captions.isEmpty()).as("nothing is forwarded before the punctuator").isTrue();
      t.tick();

      // Then one caption with the five attribute answers, model and lineage
      TestRecord<String, ImageCaptioned> out = t.captions.readRecord();
      ImageCaptioned c = out.value();
      assertThat(out.key()).isEqualTo("u1");
      assertThat(c.getCaption()).isEqualTo("caption of " + image.length + " bytes");
      assertThat(c.getAttributes())
          .extracting(Attribute::getName)
          .containsExactly("category", "colour", "material", "pattern", "style");
      assertThat(c.getAttributes().get(1).getValue()).isEqualTo("answer[What colour is it?|0]");
      assertThat(c.getModel().getModelVersion()).isEqualTo(FakeEngine.VERSION);
      assertThat(c.getModel().getModelId()).isEqualTo("shoplens/fake");
      assertThat(c.getTokenCounts().getPromptTokens()).isEqualTo(30);
      assertThat(c.getTokenCounts().getImageTokens()).isEqualTo(10);
      assertThat(c.getLineage().getSourceTopic()).isEqualTo(Topics.IMAGE_UPLOADS);
      assertThat(c.getLineage().getSourceOffset()).isZero();
      assertLineageHeaders(out.headers(), Topics.IMAGE_UPLOADS, 0, FakeEngine.VERSION);
      assertThat(t.captions.isEmpty()).isTrue();
      assertThat(t.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldAnswerQuestionJoinedWithItsUpload() {
    try (TopologyHarness t = start(config().build())) {
      // Given an upload and then a question about it
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "what colour is it?"));

      // When results are forwarded
      t.tick();

      // Then the answer carries the question's ids, the options used and its own lineage
      TestRecord<String, QuestionAnswered> out = t.answers.readRecord();
      QuestionAnswered a = out.value();
      assertThat(a.getQuestionId()).isEqualTo("q1");
      assertThat(a.getUploadId()).isEqualTo("u1");
      assertThat(a.getAnswer()).isEqualTo("answer[what colour is it?|0]");
      assertThat(a.getGenerationOptions().getStrategy()).isEqualTo(DecodingStrategy.GREEDY);
      assertThat(a.getGenerationOptions().getSeed()).isNotNull();
      assertThat(a.getGenerationOptions().getRepetitionPenalty()).isEqualTo(1.0);
      assertThat(a.getLineage().getSourceTopic()).isEqualTo(Topics.QUESTIONS);
      assertLineageHeaders(out.headers(), Topics.QUESTIONS, 0, FakeEngine.VERSION);
      // and the image sent to the engine is the upload's
      GenerationRequest sent =
          engine.submitted.stream()
              .filter(r -> r.requestId().endsWith("/answer"))
              .findFirst()
              .orElseThrow();
      assertThat(sent.image()).isEqualTo(TestEvents.goodImage());
      assertThat(t.answers.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldApplyQuestionGenerationOptionsOverDefaults() {
    try (TopologyHarness t = start(config().build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      QuestionAsked q = TestEvents.question("q1", "u1", "what is it?");
      q.setGenerationOptions(
          GenerationOptions.newBuilder()
              .setStrategy(DecodingStrategy.BEAM)
              .setMaxNewTokens(12)
              .setSeed(99L)
              .setRepetitionPenalty(1.3)
              .build());
      t.questions.pipeInput("u1", q);
      t.tick();

      QuestionAnswered a = t.answers.readValue();
      assertThat(a.getGenerationOptions().getStrategy()).isEqualTo(DecodingStrategy.BEAM);
      assertThat(a.getGenerationOptions().getNumBeams()).isEqualTo(QuestionDecoding.DEFAULT_BEAMS);
      assertThat(a.getGenerationOptions().getMaxNewTokens()).isEqualTo(12);
      assertThat(a.getGenerationOptions().getSeed()).isEqualTo(99L);
      assertThat(a.getGenerationOptions().getRepetitionPenalty()).isEqualTo(1.3);
      GenerationRequest sent =
          engine.submitted.stream()
              .filter(r -> r.requestId().endsWith("/answer"))
              .findFirst()
              .orElseThrow();
      assertThat(sent.seed()).isEqualTo(99L);
      assertThat(sent.options().numBeams()).isEqualTo(QuestionDecoding.DEFAULT_BEAMS);
      assertThat(sent.options().repetitionPenalty()).isEqualTo(1.3);
    }
  }

  @Test
  void shouldHoldQuestionUntilItsUploadArrives() {
    try (TopologyHarness t = start(config().build())) {
      // Given a question whose upload has not arrived
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "what is it?"));
      t.tick();
      assertThat(t.answers.isEmpty()).isTrue();
      assertThat(engine.submitted).isEmpty();

      // When the upload arrives within the waiting time
      t.advance(Duration.ofMinutes(1));
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.tick();

      // Then the question is answered, and not dead-lettered later
      assertThat(t.answers.readValue().getQuestionId()).isEqualTo("q1");
      assertThat(t.captions.readValue().getUploadId()).isEqualTo("u1");
      t.advance(Duration.ofMinutes(10));
      assertThat(t.deadLetters.isEmpty()).isTrue();
      assertThat(t.answers.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldDropAReleasedQuestionFromTheExpiryIndex() {
    try (TopologyHarness t = start(config().build())) {
      // Given a question that waits for its upload
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "what is it?"));
      assertThat(expiryIndex(t))
          .extracting(ExpiryKey::kind)
          .containsExactly(ExpiryKey.Kind.WAITING_QUESTION);

      // When the upload arrives and releases it
      t.advance(Duration.ofSeconds(5));
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.tick();
      assertThat(t.answers.readValue().getQuestionId()).isEqualTo("q1");

      // Then the index holds the upload's entry only, not the released question's until its time
      assertThat(expiryIndex(t))
          .extracting(e -> e.kind() + ":" + e.key())
          .containsExactly("UPLOAD:u1");
    }
  }

  @Test
  void shouldKeepOneExpiryEntryPerConversationWhateverItsTurns() {
    try (TopologyHarness t = start(config().conversationTtl(Duration.ofMinutes(5)).build())) {
      // Given an upload and three turns of one conversation, answered a minute apart
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      for (int i = 1; i <= 3; i++) {
        t.questions.pipeInput("u1", TestEvents.question("q" + i, "u1", "c1", "turn " + i + "?"));
        t.tick();
        t.advance(Duration.ofMinutes(1));
      }
      assertThat(t.answers.readValuesToList()).hasSize(3);

      // Then the index holds the upload and the conversation once, due a TTL after the last turn
      List<ExpiryKey> index = expiryIndex(t);
      assertThat(index)
          .extracting(ExpiryKey::kind)
          .containsExactly(ExpiryKey.Kind.CONVERSATION, ExpiryKey.Kind.UPLOAD);
      long lastTurnAt = index.get(0).expiresAt() - Duration.ofMinutes(5).toMillis();
      assertThat(lastTurnAt).isGreaterThanOrEqualTo(TestEvents.T0.plusSeconds(120).toEpochMilli());

      // And the conversation is still forgotten a TTL after its last turn
      t.advance(Duration.ofMinutes(6));
      assertThat(expiryIndex(t))
          .extracting(e -> e.kind() + ":" + e.key())
          .containsExactly("UPLOAD:u1");
      assertThat(
              t.driver
                  .<String, StoredState.Conversation>getKeyValueStore(
                      ShopLensTopology.CONVERSATIONS_STORE)
                  .get("u1\u0000c1"))
          .isNull();
    }
  }

  private static List<ExpiryKey> expiryIndex(TopologyHarness t) {
    List<ExpiryKey> keys = new ArrayList<>();
    try (KeyValueIterator<ExpiryKey, String> it =
        t.driver.<ExpiryKey, String>getKeyValueStore(ShopLensTopology.EXPIRY_STORE).all()) {
      it.forEachRemaining(kv -> keys.add(kv.key));
    }
    return keys;
  }

  @Test
  void shouldDeadLetterQuestionWhoseUploadNeverArrivesOnce() {
    try (TopologyHarness t =
        start(config().waitingQuestionTimeout(Duration.ofMinutes(2)).build())) {
      // Given a question about an upload that never comes
      Headers headers = new RecordHeaders().add("trace", "abc".getBytes(StandardCharsets.UTF_8));
      t.questions.pipeInput(
          new TestRecord<>(
              "ghost", TestEvents.question("q1", "ghost", "hello?"), headers, TestEvents.T0));

      // When less than the waiting time passes, nothing happens
      t.advance(Duration.ofSeconds(110));
      assertThat(t.deadLetters.isEmpty()).isTrue();

      // When the waiting time has passed
      t.advance(Duration.ofSeconds(11));

      // Then it is dead-lettered once, at JOIN, with its original bytes and headers
      TestRecord<String, DeadLetter> out = t.deadLetters.readRecord();
      DeadLetter dl = out.value();
      assertThat(out.key()).isEqualTo("ghost");
      assertThat(dl.getStage()).isEqualTo(ProcessingStage.JOIN);
      assertThat(dl.getErrorMessage()).contains("upload ghost not found");
      assertThat(dl.getErrorClass()).endsWith("UploadNotFoundException");
      assertThat(dl.getSourceTopic()).isEqualTo(Topics.QUESTIONS);
      assertThat(dl.getHeaders()).hasSize(1);
      assertThat(dl.getHeaders().get(0).getName()).isEqualTo("trace");
      QuestionAsked original =
          t.topics
              .questions()
              .valueSerde()
              .deserializer()
              .deserialize(Topics.QUESTIONS, bytes(dl.getValue()));
      assertThat(original.getQuestionId()).isEqualTo("q1");
      assertThat(new String(bytes(dl.getKey()), StandardCharsets.UTF_8)).isEqualTo("ghost");
      assertLineageHeaders(out.headers(), Topics.QUESTIONS, 0, null);
      t.advance(Duration.ofMinutes(10));
      assertThat(t.deadLetters.isEmpty()).isTrue();

      // And an upload arriving afterwards does not answer it
      t.uploads.pipeInput("ghost", TestEvents.upload("ghost", TestEvents.goodImage()));
      t.tick();
      assertThat(t.answers.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldDeadLetterQuestionsBeyondTheWaitingBound() {
    try (TopologyHarness t = start(config().maxWaitingQuestions(2).build())) {
      t.questions.pipeInput("a", TestEvents.question("q1", "a", "one?"));
      t.questions.pipeInput("b", TestEvents.question("q2", "b", "two?"));
      t.questions.pipeInput("c", TestEvents.question("q3", "c", "three?"));

      DeadLetter dl = t.deadLetters.readValue();
      assertThat(dl.getStage()).isEqualTo(ProcessingStage.JOIN);
      assertThat(dl.getSourceOffset()).isEqualTo(2);
      assertThat(dl.getErrorMessage()).contains("maxWaitingQuestions=2");
      assertThat(t.deadLetters.isEmpty()).isTrue();

      // Released waiting questions free their places
      t.uploads.pipeInput("a", TestEvents.upload("a", TestEvents.goodImage()));
      t.questions.pipeInput("d", TestEvents.question("q4", "d", "four?"));
      assertThat(t.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldPutEarlierTurnsOfConversationIntoThePromptInOrder() {
    engine.hold();
    try (TopologyHarness t = start(config().build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      // Given three turns of one conversation and a question outside it
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "c1", "what is it?"));
      t.questions.pipeInput("u1", TestEvents.question("q2", "u1", "c1", "what colour?"));
      t.questions.pipeInput("u1", TestEvents.question("q3", "u1", "c1", "which size?"));
      t.questions.pipeInput("u1", TestEvents.question("q4", "u1", "other?"));

      // Then only the first turn is submitted while it runs
      assertThat(questionsSubmitted()).containsExactly("what is it?", "other?");

      // When each turn completes, the next follows with the earlier turns in its prompt
      for (int i = 0; i < 3; i++) {
        engine.releaseAll();
        engine.hold();
        t.tick();
      }
      engine.releaseAll();
      t.tick();

      List<QuestionAnswered> answers = t.answers.readValuesToList();
      assertThat(answers)
          .extracting(QuestionAnswered::getAnswer)
          .containsExactlyInAnyOrder(
              "answer[what is it?|0]",
              "answer[what colour?|1]",
              "answer[which size?|2]",
              "answer[other?|0]");
      GenerationRequest third =
          engine.submitted.stream()
              .filter(r -> "which size?".equals(r.question()))
              .findFirst()
              .orElseThrow();
      assertThat(third.history())
          .extracting(turn -> turn.question() + "=" + turn.answer())
          .containsExactly(
              "what is it?=answer[what is it?|0]", "what colour?=answer[what colour?|1]");
    }
  }

  @Test
  void shouldBoundConversationHistoryInTurnsAndTokensAndForgetItAfterTtl() {
    try (TopologyHarness t =
        start(
            config()
                .conversationMaxTurns(2)
                .conversationMaxTokens(1000)
                .conversationTtl(Duration.ofMinutes(5))
                .build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      for (int i = 1; i <= 4; i++) {
        t.questions.pipeInput("u1", TestEvents.question("q" + i, "u1", "c1", "turn " + i + "?"));
        t.tick();
      }
      // The 4th turn sees only the 2 newest earlier turns
      assertThat(t.answers.readValuesToList())
          .extracting(QuestionAnswered::getAnswer)
          .containsExactly(
              "answer[turn 1?|0]", "answer[turn 2?|1]", "answer[turn 3?|2]", "answer[turn 4?|2]");

      // After the TTL the conversation starts over
      t.advance(Duration.ofMinutes(6));
      t.questions.pipeInput("u1", TestEvents.question("q5", "u1", "c1", "again?"));
      t.tick();
      assertThat(t.answers.readValue().getAnswer()).isEqualTo("answer[again?|0]");
    }
  }

  @Test
  void shouldDropOldestTurnsBeyondTheTokenBound() {
    try (TopologyHarness t =
        start(config().conversationMaxTurns(10).conversationMaxTokens(80).build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      // About 25 estimated tokens, and its answer (which repeats it) about 27.
      String longQuestion = "describe " + "the fabric ".repeat(8) + "?";
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "c1", longQuestion));
      t.tick();
      t.questions.pipeInput("u1", TestEvents.question("q2", "u1", "c1", longQuestion));
      t.tick();
      t.questions.pipeInput("u1", TestEvents.question("q3", "u1", "c1", "short?"));
      t.tick();
      List<String> answers =
          t.answers.readValuesToList().stream().map(QuestionAnswered::getAnswer).toList();
      // Two long turns exceed 80 estimated tokens: only the newest is kept.
      assertThat(answers.get(2)).isEqualTo("answer[short?|1]");
    }
  }

  @Test
  void shouldDeadLetterUnreadableRecordsThroughTheDeserializationHandlerAndKeepGoing() {
    try (TopologyHarness t =
        new TopologyHarness(
            config().build(),
            engine,
            ImageResolver.inlineOnly(10_000_000),
            stateDir,
            StreamsConfig.AT_LEAST_ONCE)) {
      byte[] garbage = "not avro at all".getBytes(StandardCharsets.UTF_8);
      t.rawUploads.pipeInput("u0".getBytes(StandardCharsets.UTF_8), garbage);
      t.rawQuestions.pipeInput("u0".getBytes(StandardCharsets.UTF_8), TestEvents.unknownSchemaId());
      t.rawUploads.pipeInput(new byte[] {(byte) 0xC3, 0x28}, garbage); // malformed UTF-8 key
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.tick();

      List<DeadLetter> dls = t.rawKeyedDeadLetters.readValuesToList();
      assertThat(dls).hasSize(3);
      assertThat(dls)
          .allSatisfy(dl -> assertThat(dl.getStage()).isEqualTo(ProcessingStage.DESERIALIZE));
      assertThat(bytes(dls.get(0).getValue())).isEqualTo(garbage);
      assertThat(dls.get(0).getSourceTopic()).isEqualTo(Topics.IMAGE_UPLOADS);
      assertThat(bytes(dls.get(1).getValue())).isEqualTo(TestEvents.unknownSchemaId());
      assertThat(dls.get(1).getSourceTopic()).isEqualTo(Topics.QUESTIONS);
      assertThat(bytes(dls.get(2).getKey())).isEqualTo(new byte[] {(byte) 0xC3, 0x28});
      assertThat(dls.get(2).getSourceOffset()).isEqualTo(1);
      assertThat(t.captions.readValue().getUploadId()).isEqualTo("u1");
    }
  }

  @Test
  void shouldDeadLetterEachInvalidUploadAtValidateAndKeepGoing() {
    try (TopologyHarness t = start(config().maxInlineImageBytes(1000).build())) {
      t.uploads.pipeInput("u0", TestEvents.upload("u0", new byte[0]));
      t.uploads.pipeInput("u1", TestEvents.upload("u1", new byte[1001]));
      t.uploads.pipeInput("other", TestEvents.upload("u2", TestEvents.goodImage()));
      t.uploads.pipeInput("u3", TestEvents.upload("u3", TestEvents.goodImage()));
      t.tick();

      List<DeadLetter> dls = t.deadLetters.readValuesToList();
      assertThat(dls).extracting(DeadLetter::getStage).containsOnly(ProcessingStage.VALIDATE);
      assertThat(dls)
          .extracting(DeadLetter::getErrorMessage)
          .containsExactly(
              "inline image has 0 bytes",
              "inline image has 1001 bytes, more than maxInlineImageBytes=1000",
              "key 'other' differs from uploadId 'u2'");
      assertThat(dls).extracting(DeadLetter::getSourceOffset).containsExactly(0L, 1L, 2L);
      assertThat(t.captions.readValuesToList())
          .extracting(ImageCaptioned::getUploadId)
          .containsExactly("u3");
    }
  }

  @Test
  void shouldCaptionWithTheUploadsOwnCaptionOptionsOverTheConfiguredOnes() {
    // Given beam-search captions configured, and an upload asking for three sampled captions
    DecodingOptions configured = DecodingOptions.beam(5).withMaxNewTokens(30).withMinNewTokens(1);
    try (TopologyHarness t = start(config().captionOptions(configured).build())) {
      ImageUploaded upload = TestEvents.upload("u1", TestEvents.goodImage());
      upload.setCaptionOptions(
          GenerationOptions.newBuilder()
              .setStrategy(DecodingStrategy.SAMPLE)
              .setTopP(0.9)
              .setNumReturnSequences(3)
              .setRepetitionPenalty(1.2)
              .setSeed(7L)
              .build());
      t.uploads.pipeInput("u1", upload);
      t.uploads.pipeInput("u2", TestEvents.upload("u2", TestEvents.goodImage()));

      // When both are captioned
      t.tick();

      // Then u1's caption request has its options over the configured ones, u2's the configured
      List<GenerationRequest> captionRequests = sent("/caption");
      assertThat(captionRequests).hasSize(2);
      GenerationRequest u1 = captionRequests.get(0);
      assertThat(u1.options())
          .isEqualTo(
              DecodingOptions.sampling()
                  .withMaxNewTokens(30)
                  .withMinNewTokens(1)
                  .withSampling(1.0, 50, 0.9)
                  .withNumReturnSequences(3)
                  .withRepetitionPenalty(1.2));
      assertThat(u1.seed()).isEqualTo(7L);
      assertThat(captionRequests.get(1).options()).isEqualTo(configured);
      // and the attribute prompts keep their own options
      assertThat(sent("/attribute/colour"))
          .extracting(GenerationRequest::options)
          .containsOnly(ShopLensTopologyConfig.defaults().attributeOptions());
      // and u1's three captions fill the caption and its alternatives
      Map<String, ImageCaptioned> captions = new HashMap<>();
      t.captions.readValuesToList().forEach(c -> captions.put(c.getUploadId(), c));
      String text = "caption of " + TestEvents.goodImage().length + " bytes";
      assertThat(captions.get("u1").getCaption()).isEqualTo(text);
      assertThat(captions.get("u1").getAlternativeCaptions())
          .containsExactly(text + " #2", text + " #3");
      assertThat(captions.get("u2").getAlternativeCaptions()).isEmpty();
      assertThat(t.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldDeadLetterUploadWithCaptionOptionsThatDoNotFitAndKeepGoing() {
    try (TopologyHarness t = start(config().maxNewTokensLimit(40).build())) {
      // Given uploads whose caption options are out of range or do not fit together
      GenerationOptions[] bad = {
        GenerationOptions.newBuilder().setRepetitionPenalty(0.0).build(),
        GenerationOptions.newBuilder().setStrategy(DecodingStrategy.BEAM).setNumBeams(1).build(),
        GenerationOptions.newBuilder().setNumReturnSequences(3).build(),
        GenerationOptions.newBuilder().setMaxNewTokens(41).build()
      };
      for (int i = 0; i < bad.length; i++) {
        ImageUploaded upload = TestEvents.upload("u" + i, TestEvents.goodImage());
        upload.setCaptionOptions(bad[i]);
        t.uploads.pipeInput("u" + i, upload);
      }
      t.uploads.pipeInput("ok", TestEvents.upload("ok", TestEvents.goodImage()));

      // When the topology validates them
      t.tick();

      // Then each is dead-lettered at validate with the reason, and the next upload is captioned
      List<DeadLetter> dls = t.deadLetters.readValuesToList();
      assertThat(dls).extracting(DeadLetter::getStage).containsOnly(ProcessingStage.VALIDATE);
      assertThat(dls)
          .extracting(DeadLetter::getErrorMessage)
          .containsExactly(
              "caption options: repetitionPenalty must be positive and finite (1 disables), got"
                  + " 0.0",
              "caption options: beam search needs numBeams >= 2, got 1",
              "caption options: greedy decoding returns one sequence, got numReturnSequences=3",
              "caption options: maxNewTokens must be at most 40, got 41");
      assertThat(t.captions.readValuesToList())
          .extracting(ImageCaptioned::getUploadId)
          .containsExactly("ok");
      assertThat(sent("/caption")).as("only the valid upload reaches the engine").hasSize(1);
    }
  }

  /** Requests the engine received whose id ends in {@code suffix}, in submission order. */
  private List<GenerationRequest> sent(String suffix) {
    return engine.submitted.stream().filter(r -> r.requestId().endsWith(suffix)).toList();
  }

  @Test
  void shouldDeadLetterOverLongQuestionAtValidate() {
    try (TopologyHarness t = start(config().maxQuestionChars(20).build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "x".repeat(21)));
      t.questions.pipeInput("u1", TestEvents.question("q2", "u1", "short?"));
      t.tick();

      DeadLetter dl = t.deadLetters.readValue();
      assertThat(dl.getStage()).isEqualTo(ProcessingStage.VALIDATE);
      assertThat(dl.getErrorMessage()).contains("21 characters").contains("maxQuestionChars=20");
      assertThat(t.answers.readValue().getQuestionId()).isEqualTo("q2");
      assertThat(t.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldDeadLetterCorruptAndOversizedImagesAtPreprocessAndKeepGoing() {
    try (TopologyHarness t = start(config().build())) {
      t.uploads.pipeInput("bad", TestEvents.upload("bad", TestEvents.corruptJpeg()));
      t.uploads.pipeInput(
          "huge", TestEvents.upload("huge", TestEvents.hundredMegapixelPngHeader()));
      t.uploads.pipeInput("good", TestEvents.upload("good", TestEvents.goodImage()));
      t.tick();

      List<DeadLetter> dls = t.deadLetters.readValuesToList();
      assertThat(dls).extracting(DeadLetter::getStage).containsOnly(ProcessingStage.PREPROCESS);
      assertThat(dls).extracting(DeadLetter::getSourceOffset).containsExactly(0L, 1L);
      assertThat(dls.get(1).getErrorMessage()).contains("10000x10000");
      assertThat(dls).extracting(DeadLetter::getAttempts).containsOnly(1);
      assertThat(t.captions.readValuesToList())
          .extracting(ImageCaptioned::getUploadId)
          .containsExactly("good");
    }
  }

  @Test
  void shouldDeadLetterRefusedImageReferenceAtResolveImage() {
    try (TopologyHarness t = start(config().build())) {
      t.uploads.pipeInput(
          "u1", TestEvents.referencedUpload("u1", "http://169.254.169.254/latest/meta-data"));
      t.tick();

      DeadLetter dl = t.deadLetters.readValue();
      assertThat(dl.getStage()).isEqualTo(ProcessingStage.RESOLVE_IMAGE);
      assertThat(dl.getErrorClass()).endsWith("ImageRefusedException");
      assertThat(t.captions.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldRetryModelFailuresAndDeadLetterAfterMaxAttempts() {
    engine.failing(r -> r.requestId().endsWith("/answer"), 10);
    try (TopologyHarness t = start(config().maxAttempts(3).build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "what?"));
      t.tick();
      assertThat(t.captions.readValue().getUploadId()).isEqualTo("u1");
      assertThat(t.deadLetters.isEmpty()).as("first failure is retried").isTrue();

      // Each retry waits for the back-off
      t.advance(Duration.ofMillis(100));
      t.tick();
      t.advance(Duration.ofMillis(100));
      t.tick();

      DeadLetter dl = t.deadLetters.readValue();
      assertThat(dl.getStage()).isEqualTo(ProcessingStage.INFERENCE);
      assertThat(dl.getAttempts()).isEqualTo(3);
      assertThat(dl.getErrorMessage()).contains("injected model failure");
      assertThat(engine.submitted.stream().filter(r -> r.requestId().endsWith("/answer")))
          .hasSize(3);
      t.advance(Duration.ofSeconds(5));
      assertThat(t.deadLetters.isEmpty()).isTrue();
      assertThat(t.answers.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldAnswerWhenTheModelRecoversWithinMaxAttempts() {
    engine.failing(r -> r.requestId().endsWith("/answer"), 2);
    try (TopologyHarness t = start(config().maxAttempts(3).build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "what?"));
      // fail, back off, fail, back off, succeed: each step needs a punctuation
      for (int i = 0; i < 6; i++) {
        t.advance(Duration.ofMillis(100));
      }
      assertThat(t.answers.readValuesToList()).hasSize(1);
      assertThat(t.deadLetters.isEmpty()).isTrue();
    }
  }

  @Test
  void shouldBoundInFlightRequestsAndSubmitTheRestFromThePunctuator() {
    engine.hold();
    // One upload is 6 engine requests (caption + 5 attributes); room for 7.
    try (TopologyHarness t = start(config().maxInFlightRequests(7).build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.uploads.pipeInput("u2", TestEvents.upload("u2", TestEvents.goodImage()));
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "what?"));

      // The second upload did not fit (the stream thread waited, then left it to the punctuator)
      // but the question behind it waits its turn too: order is kept.
      assertThat(engine.submitted).hasSize(6);

      // When the first upload's requests complete, both waiting jobs fit (6 + 1)
      engine.releaseAll();
      engine.hold();
      t.tick();
      assertThat(t.captions.readValuesToList())
          .extracting(ImageCaptioned::getUploadId)
          .containsExactly("u1");
      assertThat(engine.submitted).hasSize(13);

      engine.releaseAll();
      t.tick();
      assertThat(t.captions.readValuesToList())
          .extracting(ImageCaptioned::getUploadId)
          .containsExactly("u2");
      assertThat(t.answers.readValuesToList()).hasSize(1);
      assertThat(engine.submitted).hasSize(13);
    }
  }

  @Test
  void shouldForgetUploadsAfterRetention() {
    try (TopologyHarness t = start(config().uploadRetention(Duration.ofMinutes(10)).build())) {
      t.uploads.pipeInput("u1", TestEvents.upload("u1", TestEvents.goodImage()));
      t.tick();
      t.advance(Duration.ofMinutes(11));
      t.questions.pipeInput("u1", TestEvents.question("q1", "u1", "still there?"));
      t.advance(Duration.ofMinutes(6));
      DeadLetter dl = t.deadLetters.readValue();
      assertThat(dl.getStage()).isEqualTo(ProcessingStage.JOIN);
      assertThat(t.answers.isEmpty()).isTrue();
    }
  }

  private List<String> questionsSubmitted() {
    return engine.submitted.stream()
        .filter(r -> r.requestId().endsWith("/answer"))
        .map(GenerationRequest::question)
        .toList();
  }

  private static void assertLineageHeaders(
      Headers headers, String topic, long offset, String modelVersion) {
    assertThat(LineageHeaders.get(headers, LineageHeaders.SOURCE_TOPIC)).isEqualTo(topic);
    assertThat(LineageHeaders.get(headers, LineageHeaders.SOURCE_PARTITION)).isEqualTo("0");
    assertThat(LineageHeaders.get(headers, LineageHeaders.SOURCE_OFFSET))
        .isEqualTo(Long.toString(offset));
    assertThat(LineageHeaders.get(headers, LineageHeaders.MODEL_VERSION)).isEqualTo(modelVersion);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer b = buffer.duplicate();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }
}
