package io.shoplens.processor.inference.retrieval;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.shoplens.processor.inference.bundle.BundleException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * The Q-Former's BERT WordPiece {@code tokenizer.json} through DJL's binding of Hugging Face {@code
 * tokenizers}, truncated as Hugging Face's {@code tokenizer(text, truncation=True, max_length=n)}
 * does: the text is cut and {@code [SEP]} still ends the sequence.
 *
 * <p>Thread-safe (the native tokenizer is immutable).
 */
public final class RetrievalTokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int maxLength;
  private final long sepTokenId;

  private RetrievalTokenizer(HuggingFaceTokenizer tokenizer, int maxLength, long sepTokenId) {
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.sepTokenId = sepTokenId;
  }

  /**
   * Loads {@code tokenizer.json} from a retrieval bundle.
   *
   * @throws BundleException if the file cannot be parsed
   */
  public static RetrievalTokenizer load(RetrievalBundle bundle) {
    Path file = bundle.file("tokenizer.json");
    RetrievalManifest.Retrieval r = bundle.manifest().retrieval();
    try {
      // We truncate ourselves (below) so that the rule is visible and the same for every caller.
      Map<String, String> options =
          Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false");
      return new RetrievalTokenizer(
          HuggingFaceTokenizer.newInstance(file, options), r.maxTextLength(), r.sepTokenId());
    } catch (IOException | RuntimeException e) {
      throw new BundleException(
          file, "expected a Hugging Face tokenizers file, cannot load it: " + e.getMessage(), e);
    }
  }

  /** Longest sequence {@link #encode} returns, [CLS] and [SEP] included. */
  public int maxLength() {
    return maxLength;
  }

  /** Number of tokens {@code text} has before truncation, special tokens included. */
  public int length(String text) {
    return tokenizer.encode(text, true, false).getIds().length;
  }

  /** {@code [CLS] text [SEP]}, at most {@link #maxLength()} ids. */
  public long[] encode(String text) {
    long[] ids = tokenizer.encode(text, true, false).getIds();
    if (ids.length <= maxLength) {
      return ids;
    }
    long[] cut = Arrays.copyOf(ids, maxLength);
    cut[maxLength - 1] = sepTokenId;
    return cut;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
