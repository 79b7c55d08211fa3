package io.shoplens.processor.inference.text;

import io.shoplens.processor.inference.Turn;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.util.Arrays;
import java.util.List;

/**
 * Builds prompt token ids as Hugging Face's {@code Blip2Processor} does: {@code num_query_tokens}
 * copies of the image token, then the tokenizer's output for the text (which starts with OPT's
 * {@code </s>}). A caption (no text) is the image tokens and {@code </s>}, as {@code
 * Blip2ForConditionalGeneration.generate} builds it without {@code input_ids}.
 *
 * <p>Multi-turn: earlier turns are formatted with the manifest's turn template and joined with its
 * separator, then the question template follows: {@code Question: q1 Answer: a1. Question: q2
 * Answer:}.
 *
 * <p>Batches are padded as {@code Blip2Processor(images, text, padding=True)} pads them: the text
 * part is left-padded and the image tokens are prepended afterwards, so padding sits between the
 * image tokens and {@code </s>} (attention mask 0 there).
 */
public final class PromptBuilder {
  private final ModelManifest manifest;
  private final Blip2Tokenizer tokenizer;

  public PromptBuilder(ModelManifest manifest, Blip2Tokenizer tokenizer) {
    this.manifest = manifest;
    this.tokenizer = tokenizer;
  }

  /** The prompt text for a request, or null for a caption. */
  public String text(String prompt, String question, List<Turn> history) {
    return text(manifest.prompt(), prompt, question, history);
  }

  /**
   * The prompt text for a request under a bundle's templates (OPT and T5 bundles share them), or
   * null for a caption: a raw {@code prompt} as is, else the earlier turns with the turn template,
   * joined by the separator, then the question template.
   */
  public static String text(
      ModelManifest.Prompt p, String prompt, String question, List<Turn> history) {
    if (prompt != null) {
      return prompt;
    }
    if (question == null) {
      return null;
    }
    StringBuilder text = new StringBuilder();
    for (Turn turn : history) {
      text.append(fill(p.turnTemplate(), turn.question(), turn.answer()));
      text.append(p.turnSeparator());
    }
    text.append(fill(p.questionTemplate(), question, null));
    return text.toString();
  }

  /** Token ids of the text part (with OPT's leading {@code </s>}), or {@code [</s>]} for null. */
  public long[] textIds(String text) {
    if (text == null) {
      return new long[] {manifest.tokens().bosTokenId()};
    }
    return tokenizer.encode(text);
  }

  /** Full prompt ids: image tokens, then the text ids. */
  public long[] promptIds(String text) {
    long[] textIds = textIds(text);
    int q = manifest.numQueryTokens();
    long[] ids = new long[q + textIds.length];
    Arrays.fill(ids, 0, q, manifest.tokens().imageTokenId());
    System.arraycopy(textIds, 0, ids, q, textIds.length);
    return ids;
  }

  /**
   * Pads full prompts (image tokens + text ids) to one length, padding after the image tokens.
   *
   * @param prompts one prompt per row, each starting with {@code num_query_tokens} image tokens
   * @return ids and mask, [rows, length]
   */
  public Padded pad(List<long[]> prompts) {
    return pad(prompts, manifest.numQueryTokens(), manifest.tokens().padTokenId());
  }

  /**
   * Pads full prompts to one length, padding after the first {@code q} (image) tokens.
   *
   * @param prompts one prompt per row, each starting with {@code q} image tokens
   * @param q number of image tokens
   * @param pad pad token id
   * @return ids and mask, [rows, length]
   */
  public static Padded pad(List<long[]> prompts, int q, long pad) {
    int length = 0;
    for (long[] p : prompts) {
      length = Math.max(length, p.length);
    }
    int rows = prompts.size();
    long[] ids = new long[rows * length];
    long[] mask = new long[rows * length];
    for (int r = 0; r < rows; r++) {
      long[] p = prompts.get(r);
      int padding = length - p.length;
      int base = r * length;
      for (int i = 0; i < q; i++) {
        ids[base + i] = p[i];
        mask[base + i] = 1;
      }
      for (int i = 0; i < padding; i++) {
        ids[base + q + i] = pad;
      }
      for (int i = q; i < p.length; i++) {
        ids[base + padding + i] = p[i];
        mask[base + padding + i] = 1;
      }
    }
    return new Padded(ids, mask, rows, length);
  }

  /**
   * A padded batch of prompts.
   *
   * @param ids [rows, length] token ids
   * @param mask [rows, length] attention mask
   * @param rows number of rows
   * @param length padded length
   */
  public record Padded(long[] ids, long[] mask, int rows, int length) {}

  // Single pass, so that a question containing "{answer}" is not substituted again.
  private static String fill(String template, String question, String answer) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      if (template.startsWith("{question}", i)) {
        out.append(question);
        i += "{question}".length();
      } else if (answer != null && template.startsWith("{answer}", i)) {
        out.append(answer);
        i += "{answer}".length();
      } else {
        out.append(template.charAt(i++));
      }
    }
    return out.toString();
  }
}
