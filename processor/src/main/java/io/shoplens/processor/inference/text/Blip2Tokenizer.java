package io.shoplens.processor.inference.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The bundle's {@code tokenizer.json} through DJL's binding of Hugging Face {@code tokenizers}.
 *
 * <p>The native library ships inside the DJL jar (linux x86_64/aarch64, macOS, Windows) and is
 * extracted once to DJL's cache directory ({@code ~/.djl.ai}, or the {@code DJL_CACHE_DIR} system
 * property or environment variable); loading from a local file never downloads anything.
 *
 * <p>Thread-safe (the native tokenizer is immutable).
 */
public final class Blip2Tokenizer implements AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;

  private Blip2Tokenizer(HuggingFaceTokenizer tokenizer) {
    this.tokenizer = tokenizer;
  }

  /**
   * Loads {@code tokenizer.json} from a generation bundle, OPT or T5 (both use it the same way).
   *
   * @throws BundleException if the file cannot be parsed
   */
  public static Blip2Tokenizer load(GenerationBundle bundle) {
    return load(bundle.file("tokenizer.json"));
  }

  /**
   * Loads a bundle's {@code tokenizer.json} by path.
   *
   * @throws BundleException if the file cannot be parsed
   */
  public static Blip2Tokenizer load(Path file) {
    try {
      // Explicit options: no truncation, no padding (we pad ourselves, after the image tokens),
      // special tokens as the tokenizer's post-processor defines them (OPT prepends </s>).
      Map<String, String> options =
          Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false");
      return new Blip2Tokenizer(HuggingFaceTokenizer.newInstance(file, options));
    } catch (IOException | RuntimeException e) {
      throw new BundleException(
          file, "expected a Hugging Face tokenizers file, cannot load it: " + e.getMessage(), e);
    }
  }

  /** Token ids of {@code text} with the tokenizer's special tokens (as HF's {@code __call__}). */
  public long[] encode(String text) {
    Encoding encoding = tokenizer.encode(text, true, false);
    return encoding.getIds();
  }

  /**
   * Decodes as Hugging Face's {@code batch_decode(ids, skip_special_tokens=True)} does for a
   * byte-level BPE tokenizer in transformers 5 (which never applies {@code
   * clean_up_tokenization_spaces} to BPE), then strips surrounding whitespace like Python's {@code
   * str.strip()}, as Hugging Face's BLIP-2 examples do.
   */
  public String decode(long[] ids) {
    return pythonStrip(tokenizer.decode(ids, true));
  }

  /** Decodes without dropping special tokens or stripping (for diagnostics). */
  public String decodeRaw(long[] ids) {
    return tokenizer.decode(ids, false);
  }

  @Override
  public void close() {
    tokenizer.close();
  }

  /** Python's {@code str.strip()}: removes characters for which {@code str.isspace()} holds. */
  static String pythonStrip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isPythonSpace(s.charAt(start))) {
      start++;
    }
    while (end > start && isPythonSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }

  // Python's isspace: Unicode category Zs or bidi class WS, B, S. Java's isWhitespace misses the
  // no-break spaces (Zs) and U+0085; isSpaceChar covers Zs, Zl, Zp.
  private static boolean isPythonSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
  }
}
