package io.shoplens.processor.inference.t5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.generation.LogitsProcessor;
import io.shoplens.processor.inference.generation.LogitsProcessors;
import io.shoplens.processor.inference.text.Blip2Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Token-for-token parity with Hugging Face's {@code generate()} on the tiny BLIP-2 T5 bundle
 * ({@code models/tiny-blip2-t5/reference.json}, written by model-export's {@code fixtures}), from
 * the recorded {@code pixel_values} and the prompts through the bundle's tokenizer.
 *
 * <p>The greedy and beam cases with a repetition penalty are left to {@code T5EngineTest}: {@link
 * T5Generator} is an oracle of the graphs, without logits processors. Their sampling cases are
 * here, as the engine's processors' scores against Hugging Face's.
 */
class T5ParityTest {
  static final Path BUNDLE = Path.of("src/test/resources/models/tiny-blip2-t5");

  private static JsonNode reference;
  private static T5Graphs graphs;
  private static T5Generator generator;
  private static Blip2Tokenizer tokenizer;

  @BeforeAll
  static void open() throws IOException {
    reference = new ObjectMapper().readTree(BUNDLE.resolve("reference.json").toFile());
    T5Bundle bundle = T5Bundle.load(BUNDLE);
    graphs =
        T5Graphs.open(bundle, EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build());
    generator = new T5Generator(graphs);
    tokenizer = Blip2Tokenizer.load(bundle.file("tokenizer.json"));
  }

  @AfterAll
  static void close() {
    graphs.close();
    tokenizer.close();
  }

  static Stream<Arguments> cases(String kind) {
    return cases(kind, true);
  }

  static Stream<Arguments> cases(String kind, boolean withRepetitionPenalty) {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : reference().get("cases")) {
      JsonNode g = c.get("generation");
      String k =
          g.path("do_sample").asBoolean(false)
              ? "sample"
              : g.path("num_beams").asInt(1) > 1 ? "beam" : "greedy";
      boolean kept = withRepetitionPenalty || !g.has("repetition_penalty");
      if ((kind.equals("all") || kind.equals(k)) && kept) {
        out.add(Arguments.of(c.get("name").asText(), c));
      }
    }
    return out.stream();
  }

  static Stream<Arguments> allCases() {
    return cases("all");
  }

  static Stream<Arguments> greedyCases() {
    return cases("greedy", false);
  }

  static Stream<Arguments> beamCases() {
    return cases("beam", false);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("allCases")
  void shouldBuildTheEncoderIdsHuggingFacesProcessorBuilt(String name, JsonNode c) {
    T5Generator.EncoderInput input = generator.encoderInput(rows(c));

    assertThat(input.ids()).isDeepEqualTo(longs2(c.get("input_ids")));
    assertThat(input.mask()).isDeepEqualTo(longs2(c.get("attention_mask")));
  }

  @ParameterizedTest(name = "{0} batched as Hugging Face ran it")
  @MethodSource("greedyCases")
  void shouldGenerateHuggingFacesTokensGreedily(String name, JsonNode c) {
    T5Generator.Output out =
        generator.greedy(rows(c), c.get("generation").get("max_new_tokens").asInt());

    assertThat(out.sequences().toArray(long[][]::new)).isDeepEqualTo(longs2(c.get("sequences")));
  }

  @ParameterizedTest(name = "{0} one request at a time")
  @MethodSource("greedyCases")
  void shouldGenerateHuggingFacesTokensGreedilyOneRequestAtATime(String name, JsonNode c) {
    List<T5Generator.Row> rows = rows(c);
    long[][] expected = longs2(c.get("sequences"));
    for (int i = 0; i < rows.size(); i++) {
      T5Generator.Output out =
          generator.greedy(List.of(rows.get(i)), c.get("generation").get("max_new_tokens").asInt());

      // Alone, a row stops at its own stop token instead of being padded to its batch's length.
      assertThat(out.sequences().get(0))
          .as(name + " row " + i)
          .containsExactly(untilStop(expected[i]));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("beamCases")
  void shouldFindHuggingFacesBeamsAndScores(String name, JsonNode c) {
    JsonNode g = c.get("generation");

    T5Generator.Output out =
        generator.beamSearch(
            rows(c),
            g.get("max_new_tokens").asInt(),
            g.get("num_beams").asInt(),
            g.get("num_return_sequences").asInt(),
            g.get("length_penalty").asDouble());

    assertThat(out.sequences().toArray(long[][]::new)).isDeepEqualTo(longs2(c.get("sequences")));
    JsonNode scores = c.get("sequences_scores");
    for (int i = 0; i < scores.size(); i++) {
      assertThat((double) out.scores()[i]).isCloseTo(scores.get(i).asDouble(), within(1e-4));
    }
  }

  static Stream<Arguments> samplingCases() {
    return cases("sample");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samplingCases")
  void shouldGiveHuggingFacesRawLogitsAndKeepItsTokensWithItsScoresWhenSampling(
      String name, JsonNode c) {
    // Given the tokens Hugging Face sampled, fed back one step at a time
    JsonNode steps = c.get("sampling_steps");
    long[] sampled = new long[steps.size() - 1];
    for (int i = 0; i < sampled.length; i++) {
      sampled[i] = steps.get(i).get("sampled").asLong();
    }
    List<float[]> logits = generator.forcedLogits(rows(c).get(0), sampled);
    JsonNode g = c.get("generation");
    LogitsProcessor filters =
        LogitsProcessors.forOptions(
            DecodingOptions.sampling()
                .withMaxNewTokens(g.get("max_new_tokens").asInt())
                .withSampling(
                    g.path("temperature").asDouble(1.0),
                    g.path("top_k").asInt(50),
                    g.path("top_p").asDouble(1.0))
                .withRepetitionPenalty(g.path("repetition_penalty").asDouble(1.0)),
            graphs.manifest().tokens().stopTokenIds());

    for (JsonNode step : steps) {
      int at = step.get("step").asInt();
      JsonNode raw = step.get("raw_logits");
      float[] scores = logits.get(at).clone();
      // Then the logits are Hugging Face's (within float32 noise: the tiny model's logits reach
      // ~45, see docs/model-bundle.md) and the processors keep exactly its tokens, with its scores
      double largest = 0;
      for (JsonNode v : raw) {
        largest = Math.max(largest, Math.abs(v.asDouble()));
      }
      for (int i = 0; i < scores.length; i++) {
        assertThat((double) scores[i])
            .as(name + " step " + at + " token " + i)
            .isCloseTo(raw.get(i).asDouble(), within(1e-4 * largest));
      }
      float[] recorded = new float[raw.size()];
      for (int i = 0; i < recorded.length; i++) {
        recorded[i] = (float) raw.get(i).asDouble();
      }
      // T5's input_ids, which the repetition penalty counts: the decoder start, then the samples;
      // never the encoder's prompt
      long[] decoded = new long[at + 1];
      decoded[0] = graphs.manifest().tokens().decoderStartTokenId();
      System.arraycopy(sampled, 0, decoded, 1, at);
      filters.process(recorded, decoded, at);
      List<Integer> kept = new ArrayList<>();
      for (int i = 0; i < recorded.length; i++) {
        if (recorded[i] != Float.NEGATIVE_INFINITY) {
          kept.add(i);
        }
      }
      List<Integer> expected = new ArrayList<>();
      step.get("kept").forEach(kv -> expected.add(kv.get(0).asInt()));
      assertThat(kept).as(name + " step " + at).containsExactlyElementsOf(expected);
      for (JsonNode kv : step.get("kept")) {
        int id = kv.get(0).asInt();
        assertThat((double) recorded[id])
            .as(name + " step " + at + " score of token " + id)
            .isCloseTo(kv.get(1).asDouble(), within(1e-4));
      }
    }
  }

  private static JsonNode reference() {
    if (reference == null) {
      try {
        reference = new ObjectMapper().readTree(BUNDLE.resolve("reference.json").toFile());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return reference;
  }

  private static List<T5Generator.Row> rows(JsonNode c) {
    List<T5Generator.Row> rows = new ArrayList<>();
    for (int i = 0; i < c.get("images").size(); i++) {
      JsonNode values =
          reference().get("images").get(c.get("images").get(i).asText()).get("pixel_values");
      float[] pixels = new float[values.size()];
      for (int j = 0; j < pixels.length; j++) {
        pixels[j] = (float) values.get(j).asDouble();
      }
      rows.add(new T5Generator.Row(pixels, tokenizer.encode(c.get("prompts").get(i).asText())));
    }
    return rows;
  }

  private long[] untilStop(long[] sequence) {
    List<Integer> stops = graphs.manifest().tokens().stopTokenIds();
    for (int i = 1; i < sequence.length; i++) {
      if (stops.contains((int) sequence[i])) {
        return Arrays.copyOf(sequence, i + 1);
      }
    }
    return sequence;
  }

  private static long[][] longs2(JsonNode rows) {
    long[][] out = new long[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      JsonNode row = rows.get(i);
      out[i] = new long[row.size()];
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] = row.get(j).asLong();
      }
    }
    return out;
  }
}
