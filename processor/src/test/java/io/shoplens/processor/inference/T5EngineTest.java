package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.t5.T5Manifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A BLIP-2 T5 bundle served by {@link BatchingInferenceEngine}, the same engine and interface as
 * OPT: token-for-token parity with Hugging Face's {@code generate()} on every greedy and beam case
 * of the tiny-t5 reference (those with a repetition penalty included: it counts the decoder's start
 * token and generated ids, not the encoder prompt), one request at a time and batched as Hugging
 * Face batched them; seeded sampling; LAVIS's multi-turn template; the vision cache; bad requests
 * failing alone; and one clear start-up error for each kind of bad bundle.
 */
class T5EngineTest {
  static final Path BUNDLE = Path.of("src/test/resources/models/tiny-blip2-t5");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static JsonNode reference;
  private static List<Integer> stops;

  @TempDir Path temp;

  static EngineConfigBuilder config() {
    return EngineConfig.builder().intraOpThreads(1).interOpThreads(1).maxBatchSize(8);
  }

  static synchronized JsonNode reference() {
    if (reference == null) {
      try {
        reference = JSON.readTree(BUNDLE.resolve("reference.json").toFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return reference;
  }

  static Stream<Arguments> deterministicCases() {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : reference().get("cases")) {
      if (!c.get("generation").path("do_sample").asBoolean(false)) {
        out.add(Arguments.of(c.get("name").asText(), c));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} one request at a time")
  @MethodSource("deterministicCases")
  void shouldGenerateHuggingFacesTokensThroughTheEngineOneRequestAtATime(String name, JsonNode c)
      throws Exception {
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(BUNDLE, config().build())) {
      for (int i = 0; i < c.get("images").size(); i++) {
        // When each row of the case is submitted alone
        GenerationResult r = get(engine.submit(request(name + "-" + i, c, i)));

        // Then its tokens (and beams, with their scores) are Hugging Face's
        assertMatches(name + " row " + i, c, i, r);
      }
    }
  }

  @ParameterizedTest(name = "{0} batched")
  @MethodSource("deterministicCases")
  void shouldGenerateHuggingFacesTokensThroughTheEngineBatchedAsHuggingFaceBatchedThem(
      String name, JsonNode c) throws Exception {
    // Given a batch wait long enough for every row of the case to join one batch
    EngineConfig config = config().maxBatchWait(Duration.ofSeconds(2)).build();
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(BUNDLE, config)) {
      List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
      for (int i = 0; i < c.get("images").size(); i++) {
        futures.add(engine.submit(request(name + "-" + i, c, i)));
      }

      // Then they ran as one batch, right-padded as Hugging Face padded them
      for (int i = 0; i < futures.size(); i++) {
        assertMatches(name + " row " + i, c, i, get(futures.get(i)));
      }
      assertThat(engine.stats().maxBatchSize()).isEqualTo(futures.size());
      assertThat(engine.stats().batches()).isEqualTo(1);
    }
  }

  @Test
  void shouldBuildLavisMultiTurnPromptFromHistoryAndAnswerLikeHuggingFace() throws Exception {
    // Given the reference's multi-turn case, asked as a question after one earlier turn
    JsonNode c = referenceCase("multiturn_alpha");
    assertThat(c.get("prompts").get(0).asText())
        .isEqualTo("Question: what is this? Answer: a bag. Question: what color is it? Answer:");
    GenerationRequest request =
        GenerationRequest.ofPixels(
            "turn-2",
            pixels("alpha.png"),
            null,
            "what color is it?",
            List.of(new Turn("what is this?", "a bag")),
            options(c.get("generation")),
            0);

    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(BUNDLE, config().build())) {
      GenerationResult r = get(engine.submit(request));

      // Then the engine built the same encoder ids (Q image tokens + the prompt + </s>) and
      // generated the same tokens
      assertThat(r.promptTokens()).isEqualTo(c.get("input_ids").get(0).size());
      assertMatches("multiturn_alpha", c, 0, r);
    }
  }

  @Test
  void shouldSampleReproduciblyPerSeedFromHuggingFacesKeptTokens() throws Exception {
    JsonNode c = referenceCase("sample_top_k_top_p");
    try (BatchingInferenceEngine engine =
        BatchingInferenceEngine.start(
            BUNDLE, config().maxBatchWait(Duration.ofMillis(500)).build())) {
      // When the same seeded request runs alone, then again batched with other requests
      GenerationResult alone = get(engine.submit(request("s-alone", c, 0, 42)));
      List<CompletableFuture<GenerationResult>> batch = new ArrayList<>();
      batch.add(engine.submit(request("s-batched", c, 0, 42)));
      for (int seed = 1; seed <= 3; seed++) {
        batch.add(engine.submit(request("s-other-" + seed, c, 0, seed)));
      }
      GenerationResult batched = get(batch.get(0));

      // Then the seed alone decides its tokens, whatever else is in the batch
      assertThat(batched.tokenIds()).containsExactly(alone.tokenIds());
      // and every first token is one that Hugging Face's filters kept at that step
      Set<Long> kept = new HashSet<>();
      c.get("sampling_steps").get(0).get("kept").forEach(kv -> kept.add(kv.get(0).asLong()));
      for (CompletableFuture<GenerationResult> f : batch) {
        assertThat(kept).contains(get(f).tokenIds()[0]);
      }
    }
  }

  @Test
  void shouldEncodeAnImageOnceForCaptionAndQuestionsThroughTheVisionCache() throws Exception {
    byte[] image = Files.readAllBytes(Path.of("src/test/resources/images/photo.jpg"));
    DecodingOptions options = DecodingOptions.greedy().withMaxNewTokens(4);
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(BUNDLE, config().build())) {
      GenerationResult caption =
          get(engine.submit(GenerationRequest.caption("c", image, options, 0)));
      GenerationResult answer =
          get(
              engine.submit(
                  GenerationRequest.question("q", image, "what is it?", List.of(), options, 0)));

      assertThat(caption.visionCacheHit()).isFalse();
      assertThat(answer.visionCacheHit()).isTrue();
      assertThat(engine.stats().visionRuns()).isEqualTo(1);
      // T5 reuses no image prefix: its encoder is bidirectional
      assertThat(engine.stats().prefixCacheHits() + engine.stats().prefixCacheMisses()).isZero();
      assertThat(caption.modelVersion()).isEqualTo(T5EngineTest.modelVersion());
    }
  }

  @Test
  void shouldFailAPromptLongerThanTheEncoderAcceptsAloneAndKeepServing() throws Exception {
    // Given a prompt of more tokens than T5Model.MAX_ENCODER_TOKENS
    String longPrompt = "what colour is the dress? ".repeat(100);
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(BUNDLE, config().build())) {
      CompletableFuture<GenerationResult> tooLong =
          engine.submit(
              GenerationRequest.ofPixels(
                  "long",
                  pixels("photo.jpg"),
                  longPrompt,
                  null,
                  List.of(),
                  DecodingOptions.greedy().withMaxNewTokens(3),
                  0));

      // Then it fails with the reason (a permanent failure: the topology dead-letters it)
      assertThatThrownBy(() -> tooLong.get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("request long")
          .hasMessageContaining("longer than the T5 encoder accepts (512 tokens)");
      // and the next request is served
      JsonNode c = referenceCase("vqa_photo");
      assertMatches("vqa_photo", c, 0, get(engine.submit(request("next", c, 0))));
      assertThat(engine.stats().failed()).isEqualTo(1);
    }
  }

  @Test
  void shouldNameTheMissingGraphAtStartUp() throws IOException {
    Path dir = copy();
    Files.delete(dir.resolve("decoder.onnx"));

    assertThatThrownBy(() -> BatchingInferenceEngine.start(dir, config().build()).close())
        .isInstanceOf(BundleException.class)
        .hasMessageContaining(dir.resolve("decoder.onnx").toString())
        .hasMessageContaining("missing");
  }

  @Test
  void shouldNameTheGraphWhoseChecksumDiffersAtStartUp() throws IOException {
    Path dir = copy();
    byte[] bytes = Files.readAllBytes(dir.resolve("encoder.onnx"));
    bytes[bytes.length / 2] ^= 1;
    Files.write(dir.resolve("encoder.onnx"), bytes);

    assertThatThrownBy(() -> BatchingInferenceEngine.start(dir, config().build()).close())
        .isInstanceOf(BundleException.class)
        .hasMessageContaining(dir.resolve("encoder.onnx").toString())
        .hasMessageContaining("sha256 mismatch");
  }

  @Test
  void shouldNameTheGraphWhoseDimensionsDisagreeWithTheManifestAtStartUp() throws IOException {
    // Given a manifest with one decoder layer more than the graphs have
    Path dir = copy();
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    ((ObjectNode) manifest.get("text")).put("num_layers", 3);
    Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(manifest));

    assertThatThrownBy(() -> BatchingInferenceEngine.start(dir, config().build()).close())
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("encoder.onnx")
        .hasMessageContaining("present.2.encoder.key");
  }

  @Test
  void shouldRefuseAFloat16T5BundleAtStartUpSayingWhy() throws IOException {
    Path dir = copy();
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    manifest.put("dtype", "float16");
    Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(manifest));

    assertThatThrownBy(() -> BatchingInferenceEngine.start(dir, config().build()).close())
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("manifest.json")
        .hasMessageContaining("dtype: expected float32 (T5 bundles are float32 only)");
  }

  // ---- helpers ----

  static JsonNode referenceCase(String name) {
    for (JsonNode c : reference().get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no reference case " + name);
  }

  static String modelVersion() {
    return reference().get("model_version").asText();
  }

  static float[] pixels(String image) {
    JsonNode values = reference().get("images").get(image).get("pixel_values");
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values.get(i).asDouble();
    }
    return out;
  }

  /** Hugging Face's generation settings as engine options. */
  static DecodingOptions options(JsonNode g) {
    return strategy(g).withRepetitionPenalty(g.path("repetition_penalty").asDouble(1.0));
  }

  private static DecodingOptions strategy(JsonNode g) {
    int maxNew = g.get("max_new_tokens").asInt();
    if (g.path("do_sample").asBoolean(false)) {
      return DecodingOptions.sampling()
          .withMaxNewTokens(maxNew)
          .withSampling(
              g.path("temperature").asDouble(1.0),
              g.path("top_k").asInt(50),
              g.path("top_p").asDouble(1.0));
    }
    int beams = g.path("num_beams").asInt(1);
    if (beams > 1) {
      return DecodingOptions.beam(beams)
          .withMaxNewTokens(maxNew)
          .withLengthPenalty(g.get("length_penalty").asDouble())
          .withNumReturnSequences(g.get("num_return_sequences").asInt());
    }
    return DecodingOptions.greedy().withMaxNewTokens(maxNew);
  }

  /** Row {@code i} of a case as a request with the raw prompt Hugging Face was given. */
  private static GenerationRequest request(String id, JsonNode c, int i) {
    return request(id, c, i, 0);
  }

  private static GenerationRequest request(String id, JsonNode c, int i, long seed) {
    return GenerationRequest.ofPixels(
        id,
        pixels(c.get("images").get(i).asText()),
        c.get("prompts").get(i).asText(),
        null,
        List.of(),
        options(c.get("generation")),
        seed);
  }

  /**
   * The result's sequences against Hugging Face's for row {@code i}: {@code generate()} returns
   * {@code [decoder_start, tokens..., padding]}; the engine returns the tokens up to and with the
   * stop token.
   */
  private static void assertMatches(String what, JsonNode c, int i, GenerationResult r) {
    JsonNode g = c.get("generation");
    int returned = g.path("num_return_sequences").asInt(1);
    List<long[]> got = new ArrayList<>();
    got.add(r.tokenIds());
    r.alternatives().forEach(s -> got.add(s.tokenIds()));
    assertThat(got).as(what + " sequences").hasSize(returned);
    for (int k = 0; k < returned; k++) {
      long[] expected = generated(c.get("sequences").get(i * returned + k));
      assertThat(got.get(k)).as(what + " sequence " + k).containsExactly(expected);
      if (c.has("sequences_scores")) {
        float score = k == 0 ? r.score() : r.alternatives().get(k - 1).score();
        assertThat((double) score)
            .as(what + " score " + k)
            .isCloseTo(c.get("sequences_scores").get(i * returned + k).asDouble(), within(1e-4));
      }
    }
  }

  /** A {@code generate()} sequence without its start token, cut after its first stop token. */
  private static long[] generated(JsonNode sequence) {
    List<Integer> stops = stopTokenIds();
    long[] all = new long[sequence.size()];
    for (int j = 0; j < all.length; j++) {
      all[j] = sequence.get(j).asLong();
    }
    for (int j = 1; j < all.length; j++) {
      if (stops.contains((int) all[j])) {
        return Arrays.copyOfRange(all, 1, j + 1);
      }
    }
    return Arrays.copyOfRange(all, 1, all.length);
  }

  private static synchronized List<Integer> stopTokenIds() {
    if (stops == null) {
      T5Manifest m = io.shoplens.processor.inference.t5.T5Bundle.load(BUNDLE).manifest();
      stops = m.tokens().stopTokenIds();
    }
    return stops;
  }

  private static GenerationResult get(CompletableFuture<GenerationResult> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private Path copy() throws IOException {
    Path dir = Files.createDirectories(temp.resolve("t5"));
    try (var files = Files.list(BUNDLE)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().equals("reference.json")) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    }
    return dir;
  }
}
