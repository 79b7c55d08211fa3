package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.images.ImageResolverConfig;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShopLensConfigTest {
  static final Path TINY = Path.of("src/test/resources/models/tiny-blip2-opt");

  static Map<String, String> minimal() {
    Map<String, String> s = new HashMap<>();
    s.put("bootstrap.servers", "broker-1:9092,broker-2:9092");
    s.put("schema.registry.url", "https://registry.example.com");
    s.put("shoplens.model.path", TINY.toString());
    return s;
  }

  @Test
  void shouldReportEveryProblemAtOnceOneLineEach() {
    // Given four independent mistakes
    Map<String, String> s = new HashMap<>();
    s.put("shoplens.model.path", "/nowhere/model");
    s.put("shoplens.inference.batch.max.size", "0");
    s.put("shoplens.inference.execution.provider", "TPU");
    s.put("shoplens.http.port", "http");

    // When / Then: all of them are reported, not just the first
    assertThatThrownBy(() -> ShopLensConfig.validate(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .anySatisfy(p -> assertThat(p).startsWith("bootstrap.servers: required"))
                    .anySatisfy(p -> assertThat(p).startsWith("schema.registry.url: required"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.inference.batch.max.size:")
                                .contains("0"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.inference.execution.provider:")
                                .contains("TPU"))
                    .anySatisfy(p -> assertThat(p).startsWith("shoplens.http.port:"))
                    .allSatisfy(p -> assertThat(p).doesNotContain("\n")));
  }

  @Test
  void shouldReportRelationProblemsAfterTypesAreValid() {
    // Given values that are each valid but do not fit together
    Map<String, String> s = minimal();
    s.put("shoplens.model.path", "/nowhere/model");
    s.put("shoplens.inflight.max", "500");
    s.put("shoplens.inference.queue.capacity", "100");
    s.put("shoplens.attribute.prompts", "colour=what colour?,colour=again?");
    s.put("basic.auth.credentials.source", "USER_INFO");

    assertThatThrownBy(() -> ShopLensConfig.validate(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .hasSize(4)
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.model.path: expected a model bundle")
                                .contains("/nowhere/model"))
                    .anySatisfy(p -> assertThat(p).startsWith("shoplens.inflight.max: 500"))
                    .anySatisfy(p -> assertThat(p).contains("attribute 'colour' is given twice"))
                    .anySatisfy(p -> assertThat(p).startsWith("basic.auth.user.info: required")));
  }

  @Test
  void shouldMapToEngineTopologyAndResolverSettings() {
    // Given
    Map<String, String> s = minimal();
    s.put("shoplens.inference.batch.max.size", "4");
    s.put("shoplens.inference.batch.max.wait.ms", "25");
    s.put("shoplens.inference.queue.capacity", "128");
    s.put("shoplens.inference.vision.cache.size", "7");
    s.put("shoplens.inference.intra.op.threads", "3");
    s.put("shoplens.inference.execution.provider", "cuda");
    s.put("shoplens.inference.scheduler", "continuous");
    s.put("shoplens.inference.kv.budget.bytes", "1048576");
    s.put("shoplens.inference.prefix.cache.bytes", "0");
    s.put("shoplens.attribute.prompts", "colour=what colour is it?,fit=how does it fit?");
    s.put("shoplens.question.max.length", "200");
    s.put("shoplens.conversation.max.turns", "3");
    s.put("shoplens.question.wait.max.ms", "60000");
    s.put("shoplens.image.allowed.hosts", "images.example.com,*.cdn.example.com");
    s.put("shoplens.image.inline.max.bytes", "500000");
    s.put("shoplens.state.store.type", "in_memory");

    // When
    ShopLensConfig config = ShopLensConfig.validate(s);
    EngineConfig engine = config.engineConfig();
    ShopLensTopologyConfig topology = config.topologyConfig("model-x", 32);
    ImageResolverConfig resolver = config.imageResolverConfig();

    // Then
    assertThat(engine.maxBatchSize()).isEqualTo(4);
    assertThat(engine.maxBatchWait()).isEqualTo(Duration.ofMillis(25));
    assertThat(engine.queueCapacity()).isEqualTo(128);
    assertThat(engine.visionCacheEntries()).isEqualTo(7);
    assertThat(engine.intraOpThreads()).isEqualTo(3);
    assertThat(engine.executionProvider()).isEqualTo(EngineConfig.ExecutionProvider.CUDA);
    assertThat(engine.scheduler()).isEqualTo(EngineConfig.Scheduler.CONTINUOUS);
    assertThat(engine.kvBudgetBytes()).isEqualTo(1_048_576);
    assertThat(engine.kvBudgetTokens()).isZero();
    assertThat(engine.prefixCacheBytes()).isZero();
    assertThat(topology.attributePrompts())
        .containsExactly(
            new ShopLensTopologyConfig.AttributePrompt("colour", "what colour is it?"),
            new ShopLensTopologyConfig.AttributePrompt("fit", "how does it fit?"));
    assertThat(topology.maxQuestionChars()).isEqualTo(200);
    assertThat(topology.conversationMaxTurns()).isEqualTo(3);
    assertThat(topology.waitingQuestionTimeout()).isEqualTo(Duration.ofMinutes(1));
    assertThat(topology.maxInlineImageBytes()).isEqualTo(500_000);
    assertThat(topology.storeType()).isEqualTo(ShopLensTopologyConfig.StoreType.IN_MEMORY);
    assertThat(topology.serdeConfig())
        .containsEntry("schema.registry.url", "https://registry.example.com");
    assertThat(resolver.allowedHosts()).containsExactly("images.example.com", "*.cdn.example.com");
    assertThat(resolver.maxInlineBytes()).isEqualTo(500_000);
  }

  @Test
  void shouldMapCaptionAndAttributeDecodingKeysOntoTheirOptions() {
    // Given LAVIS's beam-search caption (5 beams, max 30, min 1) and sampled attribute answers
    Map<String, String> s = minimal();
    s.put("shoplens.caption.strategy", "beam");
    s.put("shoplens.caption.num.beams", "5");
    s.put("shoplens.caption.num.return.sequences", "2");
    s.put("shoplens.caption.max.new.tokens", "30");
    s.put("shoplens.caption.min.new.tokens", "1");
    s.put("shoplens.caption.length.penalty", "0.6");
    s.put("shoplens.caption.repetition.penalty", "1.5");
    s.put("shoplens.attribute.strategy", "SAMPLE");
    s.put("shoplens.attribute.top.p", "0.9");
    s.put("shoplens.attribute.top.k", "0");
    s.put("shoplens.attribute.temperature", "0.8");

    // When
    ShopLensTopologyConfig topology = ShopLensConfig.validate(s).topologyConfig("model-x", 32);

    // Then
    assertThat(topology.captionOptions())
        .isEqualTo(
            DecodingOptions.beam(5)
                .withNumReturnSequences(2)
                .withMaxNewTokens(30)
                .withMinNewTokens(1)
                .withLengthPenalty(0.6)
                .withRepetitionPenalty(1.5));
    assertThat(topology.attributeOptions())
        .isEqualTo(DecodingOptions.sampling().withMaxNewTokens(10).withSampling(0.8, 0, 0.9));
  }

  @Test
  void shouldReportDecodingKeysThatDoNotFitTogetherUnderTheirPrefixOnce() {
    // Given beam-search captions with one beam, and attribute answers with a zero penalty
    Map<String, String> s = minimal();
    s.put("shoplens.caption.strategy", "BEAM");
    s.put("shoplens.attribute.repetition.penalty", "0");

    assertThatThrownBy(() -> ShopLensConfig.validate(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "shoplens.caption.*: beam search needs numBeams >= 2, got 1",
                        "shoplens.attribute.*: repetitionPenalty must be positive and finite (1"
                            + " disables), got 0.0"));
  }

  @Test
  void shouldPassUnknownKeysToKafkaAndKeepShopLensKeysOut() {
    Map<String, String> s = minimal();
    s.put("security.protocol", "SASL_SSL");
    s.put("max.poll.records", "50");

    Map<String, Object> kafka = ShopLensConfig.validate(s).kafkaProperties();

    assertThat(kafka)
        .containsEntry("security.protocol", "SASL_SSL")
        .containsEntry("max.poll.records", "50")
        .containsEntry("bootstrap.servers", "broker-1:9092,broker-2:9092")
        .containsEntry("application.id", "shoplens");
    assertThat(kafka.keySet()).noneMatch(k -> k.startsWith("shoplens."));
  }

  @Test
  void shouldPrintSettingsWhoseNamesOnlyLookSecret() {
    // Given settings whose names contain "token" or "credentials" but whose values are not secrets
    Map<String, String> s = minimal();
    s.put("shoplens.answer.max.new.tokens", "12");
    s.put("basic.auth.credentials.source", "USER_INFO");
    s.put("basic.auth.user.info", "alice:s3cret-info");
    s.put("max.poll.records", "50");

    // When described for the start-up log
    Map<String, String> printed = ShopLensConfig.validate(s).describe();

    // Then they print (typed keys by their type, registry keys by name), the secret does not
    assertThat(printed)
        .containsEntry("shoplens.answer.max.new.tokens", "12")
        .containsEntry("basic.auth.credentials.source", "USER_INFO")
        .containsEntry("max.poll.records", "50")
        .containsEntry("basic.auth.user.info", "[hidden]");
  }

  @Test
  void shouldNeverPrintSecrets() {
    // Given secrets among ShopLens's settings, pass-through settings and inside a URL
    Map<String, String> s = minimal();
    s.put("schema.registry.url", "https://reg-user:reg-pass@registry.example.com");
    s.put("basic.auth.credentials.source", "USER_INFO");
    s.put("basic.auth.user.info", "alice:s3cret-info");
    s.put("bearer.auth.credentials.source", "STATIC_TOKEN");
    s.put("bearer.auth.token", "tok-123456");
    s.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\""
            + " password=\"jaas-pass\";");
    s.put("ssl.truststore.password", "trust-pass");

    // When
    ShopLensConfig config = ShopLensConfig.validate(s);
    String printed = config.toString() + config.describe();

    // Then: none of them is printed, the clients still get them
    assertThat(printed)
        .doesNotContain("reg-pass", "s3cret-info", "tok-123456", "jaas-pass", "trust-pass")
        .contains("[hidden]");
    assertThat(config.kafkaProperties())
        .containsEntry("basic.auth.user.info", "alice:s3cret-info")
        .containsEntry("bearer.auth.token", "tok-123456")
        .containsEntry("ssl.truststore.password", "trust-pass");
  }

  @Test
  void shouldRejectAttributePromptsThatAreNotNameEqualsQuestion() {
    Map<String, String> s = minimal();
    s.put("shoplens.attribute.prompts", "what colour is it?");

    assertThatThrownBy(() -> ShopLensConfig.validate(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "shoplens.attribute.prompts: expected name=question, found 'what colour"
                            + " is it?'"));
  }
}
