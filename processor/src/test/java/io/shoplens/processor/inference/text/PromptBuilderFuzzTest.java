package io.shoplens.processor.inference.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.Turn;
import io.shoplens.processor.inference.bundle.ModelBundle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Any conversation a shopper may type, through prompt building and tokenization. The input is UTF-8
 * lines: the question, then question/answer pairs of earlier turns.
 *
 * <p>Promises checked: the prompt text contains the question and every turn verbatim (a question
 * holding {@code {answer}} is not substituted again); the ids start with the image tokens and then
 * OPT's {@code </s>}; every id is inside the vocabulary; padding a batch keeps every row's ids and
 * marks exactly its real tokens in the mask.
 */
class PromptBuilderFuzzTest {
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

  @FuzzTest(maxDuration = "5m")
  void shouldBuildPromptsThatKeepEveryTurnAndValidIds(byte[] input) {
    String[] lines = new String(input, StandardCharsets.UTF_8).split("\n", -1);
    String question = lines[0];
    List<Turn> history = new ArrayList<>();
    for (int i = 1; i + 1 < lines.length; i += 2) {
      history.add(new Turn(lines[i], lines[i + 1]));
    }

    String text = prompts.text(null, question, history);
    assertThat(text).contains(question);
    for (Turn turn : history) {
      assertThat(text).contains(turn.question()).contains(turn.answer());
    }

    long[] ids = prompts.promptIds(text);
    int q = bundle.manifest().numQueryTokens();
    long imageToken = bundle.manifest().tokens().imageTokenId();
    assertThat(ids.length).isGreaterThan(q);
    for (int i = 0; i < q; i++) {
      assertThat(ids[i]).isEqualTo(imageToken);
    }
    assertThat(ids[q]).isEqualTo(bundle.manifest().tokens().bosTokenId());
    long vocabulary = bundle.manifest().text().vocabSize();
    for (long id : ids) {
      assertThat(id).isBetween(0L, vocabulary - 1);
    }

    long[] caption = prompts.promptIds(null);
    PromptBuilder.Padded padded = prompts.pad(List.of(ids, caption));
    assertThat(padded.length()).isEqualTo(Math.max(ids.length, caption.length));
    assertThat(sum(padded.mask(), 0, padded.length())).isEqualTo(ids.length);
    assertThat(sum(padded.mask(), padded.length(), 2 * padded.length())).isEqualTo(caption.length);
  }

  private static long sum(long[] values, int from, int to) {
    long s = 0;
    for (int i = from; i < to; i++) {
      s += values[i];
    }
    return s;
  }
}
