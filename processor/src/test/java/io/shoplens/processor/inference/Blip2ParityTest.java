package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Token-for-token parity with Hugging Face's {@code generate()} on the tiny bundle, from the
 * recorded {@code pixel_values} (the image pipeline is the imaging package's concern, tested
 * end-to-end below).
 */
class Blip2ParityTest {
  private static Blip2Model model;
  private static Set<Long> stops;

  @BeforeAll
  static void open() {
    model =
        Blip2Model.open(
            TinyBundle.dir(), EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build());
    ModelManifest.Tokens t = model.manifest().tokens();
    stops = t.stopTokenIds().stream().map(Integer::longValue).collect(Collectors.toSet());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static Stream<Arguments> deterministicCases() {
    return TinyBundle.cases().stream()
        .filter(c -> !c.get("generation").path("do_sample").asBoolean(false))
        .map(c -> Arguments.of(c.get("name").asText(), c));
  }

  @ParameterizedTest(name = "{0} batched as Hugging Face ran it")
  @MethodSource("deterministicCases")
  void shouldGenerateTheSameTokensAsHuggingFaceBatched(String name, JsonNode c) {
    List<GenerationResult> results = model.generate(requests(c, TinyBundle::pixelValues));

    assertMatches(c, results, rowsOf(c));
  }

  @ParameterizedTest(name = "{0} one request at a time")
  @MethodSource("deterministicCases")
  void shouldGenerateTheSameTokensAsHuggingFaceUnbatched(String name, JsonNode c) {
    List<GenerationRequest> requests = requests(c, TinyBundle::pixelValues);
    List<GenerationResult> results = new ArrayList<>();
    for (GenerationRequest r : requests) {
      results.addAll(model.generate(List.of(r)));
    }

    assertMatches(c, results, rowsOf(c));
  }

  static Stream<Arguments> greedyCases() {
    return TinyBundle.cases().stream()
        .filter(c -> c.get("generation").path("num_beams").asInt(1) == 1)
        .filter(c -> !c.get("generation").path("do_sample").asBoolean(false))
        .map(c -> Arguments.of(c.get("name").asText(), c));
  }

  @ParameterizedTest(name = "{0} from the image file")
  @MethodSource("greedyCases")
  void shouldGenerateHuggingFacesTokensEndToEndFromImageFiles(String name, JsonNode c) {
    List<GenerationRequest> requests = new ArrayList<>();
    for (int i = 0; i < c.get("images").size(); i++) {
      String image = c.get("images").get(i).asText();
      JsonNode prompt = c.get("prompts").get(i);
      requests.add(
          new GenerationRequest(
              name + "-" + i,
              TinyBundle.imageBytes(image),
              null,
              prompt.isNull() ? null : prompt.asText(),
              null,
              List.of(),
              options(c.get("generation")),
              0));
    }

    List<GenerationResult> results = model.generate(requests);

    assertMatches(c, results, rowsOf(c));
  }

  @ParameterizedTest(name = "all greedy cases in one mixed batch")
  @MethodSource("greedyCasesTogether")
  void shouldGiveEachRequestItsOwnTokensInAMixedBatch(List<JsonNode> cases) {
    // Given every greedy case's rows in one batch (different prompts, lengths and images)
    List<GenerationRequest> all = new ArrayList<>();
    List<long[]> expected = new ArrayList<>();
    for (JsonNode c : cases) {
      all.addAll(requests(c, TinyBundle::pixelValues));
      for (JsonNode row : c.get("new_tokens")) {
        expected.add(untilStop(TinyBundle.longs(row)));
      }
    }

    List<GenerationResult> results = model.generate(all);

    for (int i = 0; i < results.size(); i++) {
      assertThat(results.get(i).tokenIds())
          .as(all.get(i).requestId())
          .containsExactly(expected.get(i));
    }
  }

  static Stream<Arguments> greedyCasesTogether() {
    return Stream.of(Arguments.of(greedyCases().map(a -> (JsonNode) a.get()[1]).toList()));
  }

  private static void assertMatches(JsonNode c, List<GenerationResult> results, int[] rows) {
    String name = c.get("name").asText();
    JsonNode newTokens = c.get("new_tokens");
    JsonNode scores = c.get("sequences_scores");
    int row = 0;
    for (int i = 0; i < results.size(); i++) {
      GenerationResult r = results.get(i);
      List<GenerationResult.Sequence> sequences = new ArrayList<>();
      sequences.add(
          new GenerationResult.Sequence(r.text(), r.tokenIds(), r.finishReason(), r.score()));
      sequences.addAll(r.alternatives());
      assertThat(sequences).as(name + " request " + i).hasSize(rows[i]);
      for (GenerationResult.Sequence s : sequences) {
        long[] hf = untilStop(TinyBundle.longs(newTokens.get(row)));
        String where = name + " row " + row;
        assertThat(s.tokenIds()).as(where).containsExactly(hf);
        assertThat(s.text()).as(where).isEqualTo(c.get("text").get(row).asText().strip());
        FinishReason reason =
            stops.contains(hf[hf.length - 1]) ? FinishReason.STOP : FinishReason.LENGTH;
        assertThat(s.finishReason()).as(where).isEqualTo(reason);
        if (scores != null) {
          assertThat((double) s.score())
              .as(where)
              .isCloseTo(scores.get(row).asDouble(), within(1e-4));
        }
        row++;
      }
    }
    assertThat(row).as(name + " rows compared").isEqualTo(newTokens.size());
  }

  private static int[] rowsOf(JsonNode c) {
    int perRequest = c.get("generation").path("num_return_sequences").asInt(1);
    int[] rows = new int[c.get("images").size()];
    Arrays.fill(rows, perRequest);
    return rows;
  }

  /** HF pads finished rows; our sequences end at the first stop token. */
  private static long[] untilStop(long[] tokens) {
    for (int i = 0; i < tokens.length; i++) {
      if (stops.contains(tokens[i])) {
        return Arrays.copyOf(tokens, i + 1);
      }
    }
    return tokens;
  }

  private static List<GenerationRequest> requests(
      JsonNode c, java.util.function.Function<String, float[]> pixels) {
    List<GenerationRequest> out = new ArrayList<>();
    for (int i = 0; i < c.get("images").size(); i++) {
      JsonNode prompt = c.get("prompts").get(i);
      out.add(
          GenerationRequest.ofPixels(
              c.get("name").asText() + "-" + i,
              pixels.apply(c.get("images").get(i).asText()),
              prompt.isNull() ? null : prompt.asText(),
              null,
              List.of(),
              options(c.get("generation")),
              0));
    }
    return out;
  }

  static DecodingOptions options(JsonNode g) {
    int beams = g.path("num_beams").asInt(1);
    DecodingOptions o =
        beams > 1
            ? DecodingOptions.beam(beams)
                .withNumReturnSequences(g.path("num_return_sequences").asInt(1))
                .withLengthPenalty(g.path("length_penalty").asDouble(1.0))
            : DecodingOptions.greedy();
    return o.withMaxNewTokens(g.get("max_new_tokens").asInt());
  }
}
