package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.inference.bundle.Dtype;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Token-for-token parity with Python ONNX Runtime on the float16 tiny bundle ({@code
 * models/tiny-blip2-opt-f16}: the float32 fixture's weights exported with {@code --dtype float16};
 * its {@code reference.json} is written by model-export's {@code fixtures_fp16} with {@code
 * runtime.BundleRunner}), from the float32 fixture's recorded pixel values and prompts.
 *
 * <p>Tokens must be equal; beam scores agree within {@link #SCORE_TOLERANCE} only. Java's ONNX
 * Runtime (1.29) and the Python one that recorded the fixture (1.30) run the float16 vision graph
 * slightly differently: fed the same float16 pixels of photo.jpg, 90 of the 160 query-embedding
 * values differ (by at most 0.008) while the text embeddings are identical, and 350 of the 600
 * first-step logits of beam_vqa_photo differ by at most 0.0039, one float16 step for logits of 4 to
 * 8. A beam score adds up to 12 steps' log-probabilities, so scores differ by up to about 2e-3.
 */
class Blip2Float16ParityTest {
  static final Path BUNDLE = Path.of("src/test/resources/models/tiny-blip2-opt-f16");

  /** Beam score tolerance (see the class comment): a few float16 steps of the logits. */
  static final double SCORE_TOLERANCE = 1e-2;

  private static JsonNode reference;
  private static Blip2Model model;

  @BeforeAll
  static void open() throws IOException {
    reference = new ObjectMapper().readTree(BUNDLE.resolve("reference.json").toFile());
    model = Blip2Model.open(BUNDLE, singleThreaded().build());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static EngineConfigBuilder singleThreaded() {
    return EngineConfig.builder().intraOpThreads(1).interOpThreads(1);
  }

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    reference.get("cases").forEach(c -> out.add(Arguments.of(c.get("name").asText(), c)));
    return out.stream();
  }

  @Test
  void shouldLoadTheBundleAsFloat16() {
    assertThat(model.manifest().dtype()).isEqualTo(Dtype.FLOAT16);
    assertThat(model.modelVersion()).isEqualTo(reference.get("model_version").asText());
  }

  @ParameterizedTest(name = "{0} batched as Python ran it")
  @MethodSource("cases")
  void shouldGeneratePythonOnnxRuntimesTokensBatched(String name, JsonNode c) {
    // Given the case's requests in one batch
    List<GenerationRequest> requests = requests(c);

    // When decoded together
    List<GenerationResult> results = model.generate(requests);

    // Then every sequence is Python ONNX Runtime's
    assertMatches(c, results);
  }

  @ParameterizedTest(name = "{0} one request at a time")
  @MethodSource("cases")
  void shouldGeneratePythonOnnxRuntimesTokensAlone(String name, JsonNode c) {
    List<GenerationResult> results = new ArrayList<>();
    for (GenerationRequest r : requests(c)) {
      results.addAll(model.generate(List.of(r)));
    }

    assertMatches(c, results);
  }

  @Test
  void shouldGeneratePythonOnnxRuntimesTokensOnTheContinuousEngineWithImagePrefixReuse()
      throws Exception {
    // Given the continuous scheduler with an image-prefix cache (float16 KV copied out and back)
    // and every case's requests submitted twice, so that the second round reuses prefixes
    EngineConfig config =
        singleThreaded()
            .scheduler(EngineConfig.Scheduler.CONTINUOUS)
            .maxBatchSize(4)
            .prefixCacheBytes(1 << 20)
            .build();
    List<JsonNode> all = new ArrayList<>();
    reference.get("cases").forEach(all::add);
    try (BatchingInferenceEngine engine = BatchingInferenceEngine.start(BUNDLE, config)) {
      for (int round = 0; round < 2; round++) {
        List<List<CompletableFuture<GenerationResult>>> futures = new ArrayList<>();
        for (JsonNode c : all) {
          List<CompletableFuture<GenerationResult>> forCase = new ArrayList<>();
          for (GenerationRequest r : requests(c)) {
            forCase.add(engine.submit(r));
          }
          futures.add(forCase);
        }

        // Then every request gets Python's tokens, in both rounds
        for (int i = 0; i < all.size(); i++) {
          List<GenerationResult> results = new ArrayList<>();
          for (CompletableFuture<GenerationResult> f : futures.get(i)) {
            results.add(f.get(60, TimeUnit.SECONDS));
          }
          assertMatches(all.get(i), results);
        }
      }
      assertThat(engine.stats().prefixCacheHits()).isPositive();
    }
  }

  /**
   * How often float16 and float32 greedy decoding of the same weights agree. The count asserted is
   * the one Python ONNX Runtime recorded (10 of 10 rows for this fixture): stable because both
   * bundles' tokens are pinned by their own parity tests, so it changes only with the fixture.
   */
  @Test
  void givenTheSameWeightsInFloat32WhenDecodedGreedilyThenTheRecordedNumberOfRowsAgree() {
    // Given the float32 fixture of the same weights
    int agreeing = 0;
    int rows = 0;
    try (Blip2Model float32 = Blip2Model.open(TinyBundle.dir(), singleThreaded().build())) {
      assertThat(float32.manifest().dtype()).isEqualTo(Dtype.FLOAT32);
      for (JsonNode c : reference.get("cases")) {
        if (c.get("generation").path("num_beams").asInt(1) != 1) {
          continue;
        }
        // When both decode the greedy case
        List<GenerationResult> half = model.generate(requests(c));
        List<GenerationResult> full = float32.generate(requests(c));
        for (int i = 0; i < half.size(); i++) {
          assertThat(full.get(i).tokenIds())
              .as("float32 " + c.get("name").asText())
              .containsExactly(TinyBundle.longs(c.get("float32_new_tokens").get(i)));
          agreeing +=
              java.util.Arrays.equals(half.get(i).tokenIds(), full.get(i).tokenIds()) ? 1 : 0;
          rows++;
        }
      }
    }

    // Then as many rows agree as Python ONNX Runtime found
    assertThat(rows).isEqualTo(reference.get("greedy_rows").asInt());
    assertThat(agreeing).isEqualTo(reference.get("greedy_rows_agreeing_with_float32").asInt());
  }

  private static void assertMatches(JsonNode c, List<GenerationResult> results) {
    String name = c.get("name").asText();
    JsonNode expected = c.get("new_tokens");
    JsonNode scores = c.get("sequences_scores");
    int perRequest = c.get("generation").path("num_return_sequences").asInt(1);
    assertThat(results).as(name).hasSize(c.get("images").size());
    int row = 0;
    for (GenerationResult r : results) {
      List<GenerationResult.Sequence> sequences = new ArrayList<>();
      sequences.add(
          new GenerationResult.Sequence(r.text(), r.tokenIds(), r.finishReason(), r.score()));
      sequences.addAll(r.alternatives());
      assertThat(sequences).as(name + " " + r.requestId()).hasSize(perRequest);
      for (GenerationResult.Sequence s : sequences) {
        String where = name + " row " + row;
        assertThat(s.tokenIds()).as(where).containsExactly(TinyBundle.longs(expected.get(row)));
        if (scores != null) {
          assertThat((double) s.score())
              .as(where)
              .isCloseTo(scores.get(row).asDouble(), within(SCORE_TOLERANCE));
        }
        row++;
      }
    }
    assertThat(row).as(name + " rows compared").isEqualTo(expected.size());
  }

  private static List<GenerationRequest> requests(JsonNode c) {
    return Blip2ParityTest.requests(c, TinyBundle::pixelValues);
  }
}
