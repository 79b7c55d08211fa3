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

  /** A greedy caption that always runs 12 steps: a long-lived neighbour in a running batch. */
  private static GenerationRequest longNeighbour(String id, String image) {
    return GenerationRequest.ofPixels(
        id,
        TinyBundle.pixelValues(image),
        null,
        null,
        List.of(),
        DecodingOptions.greedy().withMaxNewTokens(12).withMinNewTokens(12),
        0);
  }

  @ParameterizedTest(name = "{0} joining a running batch, one request per step")
  @MethodSource("deterministicCases")
  void shouldGenerateHuggingFacesTokensWhenJoiningARunningBatchMidDecode(String name, JsonNode c) {
    // Given a batch already decoding a long caption, and another request joining after the case
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(longNeighbour("before", "wide.png"));
    requests.addAll(requests(c, TinyBundle::pixelValues));
    requests.add(longNeighbour("after", "gray.png"));
    int[] joinAt = new int[requests.size()];
    for (int i = 0; i < joinAt.length; i++) {
      joinAt[i] = 2 * i; // the case's requests join at steps 2, 4, ...; others leave meanwhile
    }

    // When they are decoded by iteration-level scheduling
    List<GenerationResult> results = runContinuously(requests, joinAt);

    // Then the case's requests get Hugging Face's tokens, and the neighbours their solo tokens
    assertMatches(c, results.subList(1, results.size() - 1), rowsOf(c));
    assertThat(results.get(0).tokenIds())
        .containsExactly(model.generate(List.of(requests.get(0))).get(0).tokenIds());
    assertThat(results.get(results.size() - 1).tokenIds())
        .containsExactly(
            model.generate(List.of(requests.get(requests.size() - 1))).get(0).tokenIds());
  }

  @ParameterizedTest(name = "joining at step {0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {0, 1, 2, 5, 9, 11})
  void givenARunningBatchWhenRequestsJoinAtStepKThenTheirTokensEqualTheirSoloRuns(int k) {
    // Given a running batch of a long caption and a beam search, and a greedy and a beam request
    // that join at step k
    List<GenerationRequest> requests =
        List.of(
            longNeighbour("long", "wide.png"),
            requests(TinyBundle.referenceCase("beam_caption_gray"), TinyBundle::pixelValues).get(0),
            requests(TinyBundle.referenceCase("vqa_photo"), TinyBundle::pixelValues).get(0),
            requests(TinyBundle.referenceCase("beam_vqa_photo"), TinyBundle::pixelValues).get(0));
    int[] joinAt = {0, 0, k, k};

    // When decoded continuously
    List<GenerationResult> results = runContinuously(requests, joinAt);

    // Then every request's sequences, scores included, equal its run alone
    for (int i = 0; i < requests.size(); i++) {
      GenerationResult alone = model.generate(List.of(requests.get(i))).get(0);
      GenerationResult joined = results.get(i);
      assertThat(joined.tokenIds())
          .as(requests.get(i).requestId())
          .containsExactly(alone.tokenIds());
      if (Float.isNaN(alone.score())) {
        assertThat(joined.score()).as(requests.get(i).requestId()).isNaN(); // greedy: no score
      } else {
        assertThat(joined.score())
            .as(requests.get(i).requestId())
            .isCloseTo(alone.score(), within(1e-5f));
      }
      assertThat(joined.alternatives()).hasSameSizeAs(alone.alternatives());
      for (int a = 0; a < alone.alternatives().size(); a++) {
        assertThat(joined.alternatives().get(a).tokenIds())
            .containsExactly(alone.alternatives().get(a).tokenIds());
      }
    }
  }

  @org.junit.jupiter.api.Test
  void givenARowFreedMidBatchWhenItsNeighbourRunsOnThenTheFreeRowNeverPassesTheLastPosition() {
    // Given a multi-turn question (a long prompt) in row 0 and a caption (11 prompt tokens) forced
    // to 500 new tokens in row 1: row 0 is freed after at most 12 steps and stays (it is not at the
    // end) while row 1 runs to position 510 of the tiny model's 512; row 0 started 20-odd
    // positions further on
    List<GenerationRequest> requests =
        List.of(
            requests(TinyBundle.referenceCase("multiturn_alpha"), TinyBundle::pixelValues).get(0),
            GenerationRequest.ofPixels(
                "long",
                TinyBundle.pixelValues("gray.png"),
                null,
                null,
                List.of(),
                DecodingOptions.greedy().withMaxNewTokens(500).withMinNewTokens(500),
                0));

    // When decoded continuously
    List<GenerationResult> results = runContinuously(requests, new int[] {0, 0});

    // Then the long one got all its tokens, as alone
    assertThat(results.get(1).tokenIds())
        .hasSize(500)
        .containsExactly(model.generate(List.of(requests.get(1))).get(0).tokenIds());
  }

  @ParameterizedTest(name = "{0} with image-prefix reuse, computed then reused")
  @MethodSource("deterministicCases")
  void shouldGenerateHuggingFacesTokensWithImagePrefixReuse(String name, JsonNode c) {
    // Given a prefix cache, and the case run twice: first computing its image prefixes, then
    // reusing them
    PrefixCache prefixes = new PrefixCache(1 << 20, model.modelVersion());
    List<GenerationRequest> requests = requests(c, TinyBundle::pixelValues);
    int[] together = new int[requests.size()];

    // When
    List<GenerationResult> first = runContinuously(requests, together, prefixes);
    List<GenerationResult> second = runContinuously(requests, together, prefixes);

    // Then both runs give Hugging Face's tokens, the second from cached prefixes only
    assertMatches(c, first, rowsOf(c));
    assertMatches(c, second, rowsOf(c));
    assertThat(prefixes.size()).isBetween(1, requests.size());
    assertThat(prefixes.bytes()).isPositive();
    assertThat(prefixes.misses.sum()).isEqualTo(prefixes.size());
    assertThat(prefixes.hits.sum()).isEqualTo(prefixes.misses.sum());
  }

  @ParameterizedTest(name = "all greedy and beam cases, joining one per step")
  @MethodSource("deterministicCasesTogether")
  void givenMixedBatchesWhenImagePrefixesAreReusedThenTokensAreTheSameAsWithout(
      List<JsonNode> cases) {
    // Given every deterministic case's requests, joining a running batch one per step
    List<GenerationRequest> requests = new ArrayList<>();
    for (JsonNode c : cases) {
      requests.addAll(requests(c, TinyBundle::pixelValues));
    }
    int[] joinAt = new int[requests.size()];
    for (int i = 0; i < joinAt.length; i++) {
      joinAt[i] = i;
    }

    // When run with and without image-prefix reuse (several requests share an image)
    PrefixCache prefixes = new PrefixCache(1 << 20, model.modelVersion());
    List<GenerationResult> without = runContinuously(requests, joinAt, null);
    List<GenerationResult> with = runContinuously(requests, joinAt, prefixes);

    // Then every request's sequences are identical, and prefixes were reused
    for (int i = 0; i < requests.size(); i++) {
      assertThat(with.get(i).tokenIds())
          .as(requests.get(i).requestId())
          .containsExactly(without.get(i).tokenIds());
      assertThat(with.get(i).alternatives()).hasSameSizeAs(without.get(i).alternatives());
      for (int a = 0; a < with.get(i).alternatives().size(); a++) {
        assertThat(with.get(i).alternatives().get(a).tokenIds())
            .containsExactly(without.get(i).alternatives().get(a).tokenIds());
      }
    }
    assertThat(prefixes.hits.sum()).isPositive();
    assertThat(prefixes.misses.sum()).isEqualTo(prefixes.size());
  }

  static Stream<Arguments> deterministicCasesTogether() {
    return Stream.of(Arguments.of(deterministicCases().map(a -> (JsonNode) a.get()[1]).toList()));
  }

  /**
   * Decodes requests on one running batch, request i joining before step {@code joinAt[i]}
   * (non-decreasing); results in request order.
   */
  private static List<GenerationResult> runContinuously(
      List<GenerationRequest> requests, int[] joinAt) {
    return runContinuously(requests, joinAt, null);
  }

  private static List<GenerationResult> runContinuously(
      List<GenerationRequest> requests,
      int[] joinAt,
      io.shoplens.processor.inference.generation.PrefixStore prefixes) {
    GenerationResult[] results = new GenerationResult[requests.size()];
    List<Blip2Model.Encoded> encoded = new ArrayList<>();
    for (GenerationRequest r : requests) {
      Blip2Model.Prepared p = model.prepare(r);
      float[] embeds = model.encodeImages(List.of(model.decodeImage(p))).get(0);
      encoded.add(new Blip2Model.Encoded(p, embeds, 0, 0, false));
    }
    EngineConfig config = EngineConfig.builder().maxBatchSize(64).build();
    try (io.shoplens.processor.inference.generation.DecodingBatch<Integer> batch =
        model.newBatch(config, prefixes)) {
      int next = 0;
      int step = 0;
      while (next < requests.size() || !batch.isEmpty()) {
        List<io.shoplens.processor.inference.generation.RunningBatch.Input<Integer>> joiners =
            new ArrayList<>();
        while (next < requests.size() && joinAt[next] <= step) {
          Blip2Model.Encoded e = encoded.get(next);
          GenerationRequest r = e.prepared().request();
          joiners.add(
              new io.shoplens.processor.inference.generation.RunningBatch.Input<>(
                  next,
                  e.prepared().promptIds(),
                  e.queryEmbeds(),
                  r.options(),
                  r.seed(),
                  e.prepared().imageSha256()));
          next++;
        }
        assertThat(batch.fits(joiners)).isTrue();
        List<io.shoplens.processor.inference.generation.RunningBatch.Finished<Integer>> done =
            new ArrayList<>(batch.join(joiners));
        done.addAll(batch.step());
        for (var f : done) {
          results[f.tag()] = model.result(encoded.get(f.tag()), f);
        }
        step++;
      }
    }
    return List.of(results);
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

  /** One request per image of a reference case, named {@code <case>-<row>}. */
  static List<GenerationRequest> requests(
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
    return o.withMaxNewTokens(g.get("max_new_tokens").asInt())
        .withRepetitionPenalty(g.path("repetition_penalty").asDouble(1.0));
  }
}
