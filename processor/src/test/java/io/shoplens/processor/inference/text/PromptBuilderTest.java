package io.shoplens.processor.inference.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.Turn;
import io.shoplens.processor.inference.bundle.ModelBundle;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PromptBuilderTest {
  private static ModelBundle bundle;
  private static Blip2Tokenizer tokenizer;
  private static PromptBuilder prompts;

  @BeforeAll
  static void load() {
    bundle = ModelBundle.load(TinyBundle.dir());
    tokenizer = Blip2Tokenizer.load(bundle);
    prompts = new PromptBuilder(bundle.manifest(), tokenizer);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void shouldBuildTheSameIdsAndMaskAsHuggingFaceForEveryReferenceCase() {
    for (JsonNode c : TinyBundle.cases()) {
      List<long[]> rows = new ArrayList<>();
      for (JsonNode p : c.get("prompts")) {
        rows.add(prompts.promptIds(p.isNull() ? null : p.asText()));
      }
      PromptBuilder.Padded padded = prompts.pad(rows);

      List<Long> expectedIds = new ArrayList<>();
      List<Long> expectedMask = new ArrayList<>();
      c.get("input_ids").forEach(r -> r.forEach(v -> expectedIds.add(v.asLong())));
      c.get("attention_mask").forEach(r -> r.forEach(v -> expectedMask.add(v.asLong())));
      assertThat(padded.ids()).as(c.get("name").asText()).containsExactly(unbox(expectedIds));
      assertThat(padded.mask()).as(c.get("name").asText()).containsExactly(unbox(expectedMask));
    }
  }

  @Test
  void shouldFormatMultiTurnPromptsAsBlip2Does() {
    String text =
        prompts.text(null, "what color is it?", List.of(new Turn("what is this?", "a bag")));

    assertThat(text)
        .isEqualTo("Question: what is this? Answer: a bag. Question: what color is it? Answer:");
    assertThat(text)
        .isEqualTo(TinyBundle.referenceCase("multiturn_alpha").get("prompts").get(0).asText());
  }

  @Test
  void shouldNotSubstitutePlaceholdersInsideUserText() {
    String text = prompts.text(null, "what is {answer}?", List.of(new Turn("{question}", "x")));

    assertThat(text)
        .isEqualTo("Question: {question} Answer: x. Question: what is {answer}? Answer:");
  }

  @Test
  void shouldUseARawPromptAsIsAndACaptionAsImageTokensAndBos() {
    assertThat(prompts.text("a photo of", null, List.of())).isEqualTo("a photo of");
    long[] caption = prompts.promptIds(null);
    int q = bundle.manifest().numQueryTokens();

    assertThat(caption).hasSize(q + 1);
    assertThat(caption[q]).isEqualTo(bundle.manifest().tokens().bosTokenId());
  }

  @Test
  void shouldDecodeLikeHuggingFaceBatchDecodeThenStrip() {
    for (JsonNode c : TinyBundle.cases()) {
      for (int r = 0; r < c.get("new_tokens").size(); r++) {
        long[] ids = TinyBundle.longs(c.get("new_tokens").get(r));
        String hf = c.get("text").get(r).asText();

        assertThat(tokenizer.decode(ids)).as(c.get("name").asText()).isEqualTo(hf.strip());
      }
    }
  }

  @Test
  void shouldStripWhitespaceAsPythonDoes() {
    assertThat(Blip2Tokenizer.pythonStrip("\u00a0 \t a b \n\u0085\u2007")).isEqualTo("a b");
    assertThat(Blip2Tokenizer.pythonStrip("   ")).isEmpty();
  }

  private static long[] unbox(List<Long> values) {
    return values.stream().mapToLong(Long::longValue).toArray();
  }
}
