package io.shoplens.processor.inference.generation;

import static org.assertj.core.api.Assertions.assertThat;
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

        processors.process(scores, step.get("step").asInt());

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

    LogitsProcessors.forOptions(DecodingOptions.sampling(), List.of(0)).process(scores, 5);

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

    min.process(early, 1);
    min.process(late, 2);

    assertThat(early[3]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(early[5]).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(late).containsExactly(1, 1, 1, 9, 1, 9);
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
    return o.withSampling(temperature, topK, topP);
  }
}
