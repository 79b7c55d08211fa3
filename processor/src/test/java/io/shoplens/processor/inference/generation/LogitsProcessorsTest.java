package io.shoplens.processor.inference.generation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.bundle.ModelBundle;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LogitsProcessorsTest {

  @Test
  void shouldKeepTheSameTokensWithTheSameScoresAsHuggingFaceForEverySamplingCase() {
    List<Integer> stops = ModelBundle.load(TinyBundle.dir()).manifest().tokens().stopTokenIds();
    int checkedSteps = 0;
    for (JsonNode c : TinyBundle.cases()) {
      if (!c.has("sampling_steps")) {
        continue;
      }
      DecodingOptions options = options(c.get("generation"));
      LogitsProcessor processors = LogitsProcessors.forOptions(options, stops);
      for (JsonNode step : c.get("sampling_steps")) {
        JsonNode raw = step.get("raw_logits");
        float[] scores = new float[raw.size()];
        for (int i = 0; i < scores.length; i++) {
          scores[i] = (float) raw.get(i).asDouble();
        }

        int at = step.get("step").asInt();
        processors.process(scores, sequenceSoFar(c, at), at);

        TreeMap<Integer, Double> expected = new TreeMap<>();
        step.get("kept").forEach(kv -> expected.put(kv.get(0).asInt(), kv.get(1).asDouble()));
        TreeMap<Integer, Double> actual = new TreeMap<>();
        for (int i = 0; i < scores.length; i++) {
          if (scores[i] != Float.NEGATIVE_INFINITY) {
            actual.put(i, (double) scores[i]);
          }
        }
        String where = c.get("name").asText() + " step " + step.get("step").asInt();
        assertThat(actual.keySet()).as(where).containsExactlyElementsOf(expected.keySet());
        expected.forEach(
            (id, value) ->
                assertThat(actual.get(id))
                    .as(where + " token " + id)
                    .isCloseTo(value, within(1e-4)));
        assertThat(actual)
            .as(where + " sampled token kept")
            .containsKey(step.get("sampled").asInt());
        checkedSteps++;
      }
    }
    assertThat(checkedSteps).isGreaterThanOrEqualTo(3);
  }

  @Test
  void shouldApplyHuggingFacesDefaultTopKOf50WhenSampling() {
    float[] scores = new float[100];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = i;
    }

    LogitsProcessors.forOptions(DecodingOptions.sampling(), List.of(0))
        .process(scores, new long[0], 5);

    long kept = 0;
    for (float s : scores) {
      kept += s == Float.NEGATIVE_INFINITY ? 0 : 1;
    }
    assertThat(kept).isEqualTo(50);
    assertThat(scores[49]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(scores[50]).isEqualTo(50f);
  }

  @Test
  void shouldSuppressStopTokensUntilMinNewTokens() {
    LogitsProcessor min = LogitsProcessors.minNewTokens(2, List.of(3, 5));
    float[] early = {1, 1, 1, 9, 1, 9};
    float[] late = early.clone();

    min.process(early, new long[0], 1);
    min.process(late, new long[0], 2);

    assertThat(early[3]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(early[5]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(late).containsExactly(1, 1, 1, 9, 1, 9);
  }

  @Test
  void shouldDividePositiveAndMultiplyNegativeScoresOfSeenIdsOnceEach() {
    // Given id 1 (positive) seen three times, id 3 (negative) once, ids 0, 2 and 4 never
    float[] scores = {4f, 3f, -1f, -2f, 0.5f};

    LogitsProcessors.repetitionPenalty(2.0).process(scores, new long[] {1, 3, 1, 1}, 1);

    // Then each seen id is penalised once, from its own score; the others are untouched
    assertThat(scores).containsExactly(4f, 1.5f, -1f, -4f, 0.5f);
  }

  @Test
  void shouldRewardSeenIdsWithAPenaltyBelowOne() {
    float[] scores = {2f, -2f};

    LogitsProcessors.repetitionPenalty(0.5).process(scores, new long[] {0, 1}, 0);

    assertThat(scores).containsExactly(4f, -1f);
  }

  @Test
  void shouldApplyTheRepetitionPenaltyBeforeMinNewTokensAndTheSamplingWarpers() {
    // Given a seen id that top-k 1 would keep were it not penalised first
    DecodingOptions options =
        DecodingOptions.sampling().withSampling(1.0, 1, 1.0).withRepetitionPenalty(4.0);
    float[] scores = {3f, 2f};

    LogitsProcessors.forOptions(options, List.of()).process(scores, new long[] {0}, 0);

    assertThat(scores).containsExactly(Float.NEGATIVE_INFINITY, 2f);
  }

  @Test
  void shouldRefuseARepetitionPenaltyThatIsNotPositiveAndFinite() {
    for (double bad : new double[] {0, -1.2, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> DecodingOptions.greedy().withRepetitionPenalty(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("repetitionPenalty must be positive and finite (1 disables), got " + bad);
    }
    assertThat(DecodingOptions.greedy().repetitionPenalty()).isEqualTo(1.0);
  }

  @Test
  void shouldRefuseASequenceIdOutsideTheVocabulary() {
    assertThatThrownBy(
            () ->
                LogitsProcessors.repetitionPenalty(1.2).process(new float[3], new long[] {0, 7}, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("sequence id 7 is outside the vocabulary [0, 3)");
  }

  @Test
  void shouldSampleTheSameTokensForTheSameSeed() {
    float[] scores = {0.1f, 2f, 1.5f, -1f, 0.7f};
    TokenSampler sampler = TokenSampler.multinomial();
    SplittableRandom a = new SplittableRandom(42);
    SplittableRandom b = new SplittableRandom(42);
    int[] counts = new int[scores.length];
    for (int i = 0; i < 2000; i++) {
      int x = sampler.sample(scores, a);
      assertThat(sampler.sample(scores, b)).isEqualTo(x);
      counts[x]++;
    }
    // The most likely token is drawn most often; a forbidden one never.
    assertThat(counts[1]).isGreaterThan(counts[2]).isGreaterThan(counts[4]);
    float[] masked = {Float.NEGATIVE_INFINITY, 0f};
    assertThat(sampler.sample(masked, a)).isEqualTo(1);
  }

  @Test
  void shouldRankTopKLargestFirstWithLowerIndexOnTies() {
    float[] values = {3, 7, 7, 1, 9, 0, 7};

    assertThat(Logits.topK(values, 4)).containsExactly(4, 1, 2, 6);
  }

  private static DecodingOptions options(JsonNode g) {
    DecodingOptions o =
        DecodingOptions.sampling().withMaxNewTokens(g.get("max_new_tokens").asInt());
    double temperature = g.has("temperature") ? g.get("temperature").asDouble() : 1.0;
    int topK = g.has("top_k") ? g.get("top_k").asInt() : 50;
    double topP = g.has("top_p") ? g.get("top_p").asDouble() : 1.0;
    return o.withSampling(temperature, topK, topP)
        .withRepetitionPenalty(g.path("repetition_penalty").asDouble(1.0));
  }

  /** Hugging Face's input_ids of the case's first row at {@code step}: prompt, then samples. */
  private static long[] sequenceSoFar(JsonNode c, int step) {
    JsonNode prompt = c.get("input_ids").get(0);
    JsonNode sampled = c.get("new_tokens").get(0);
    long[] ids = new long[prompt.size() + step];
    for (int i = 0; i < prompt.size(); i++) {
      ids[i] = prompt.get(i).asLong();
    }
    for (int i = 0; i < step; i++) {
      ids[prompt.size() + i] = sampled.get(i).asLong();
    }
    return ids;
  }
}
