package io.shoplens.processor.inference;

import io.shoplens.processor.inference.generation.DecodingBatch;
import io.shoplens.processor.inference.generation.EncoderDecoderBatch;
import io.shoplens.processor.inference.generation.PrefixStore;
import io.shoplens.processor.inference.generation.RunningBatch;
import io.shoplens.processor.inference.t5.T5Bundle;
import io.shoplens.processor.inference.t5.T5Graphs;
import io.shoplens.processor.inference.t5.T5Manifest;
import io.shoplens.processor.inference.text.PromptBuilder;
import java.util.Arrays;

/**
 * BLIP-2 with a T5 / Flan-T5 language model ({@code architecture: blip2-t5}) as the engine's model:
 * the same requests, vision cache and results as {@link Blip2Model}, decoded by an {@link
 * EncoderDecoderBatch} (docs/model-bundle.md, "BLIP-2 Flan-T5 bundles").
 *
 * <p>What differs from OPT, and why:
 *
 * <ul>
 *   <li>Scheduling is the same as OPT's (the engine's scheduler setting): under the continuous
 *       scheduler requests join a running T5 batch between decoder steps, each with its own encoder
 *       pass and cross-attention KV, and leave it as soon as they are done (see {@link
 *       EncoderDecoderBatch}).
 *   <li>No image-prefix reuse ({@link #reusesImagePrefixes()} is false): the encoder is
 *       bidirectional, so the query positions' states depend on the prompt.
 *   <li>Prompts: the bundle's templates, as for OPT (LAVIS's multi-turn form {@code Question: q1
 *       Answer: a1. Question: q2 Answer:}); the tokenizer appends {@code </s>} and a caption is the
 *       empty prompt, {@code </s>} alone.
 *   <li>Length: T5's positions are relative, so no manifest field bounds the encoder; a prompt
 *       longer than {@link #MAX_ENCODER_TOKENS} is refused with an {@link IllegalArgumentException}
 *       (the request is dead-lettered, the engine goes on).
 * </ul>
 *
 * <p>Thread-safe for concurrent calls, but meant to be driven by one thread (the engine's worker).
 */
public final class T5Model extends VisionLanguageModel<T5Bundle, T5Graphs> {
  /**
   * Most encoder positions (query tokens, prompt and {@code </s>}) a request may have. T5 and
   * Flan-T5 were trained on inputs of at most 512 tokens ({@code n_positions} and the tokenizer's
   * {@code model_max_length} in every Flan-T5 checkpoint); past that the relative-position buckets
   * are all saturated, quality is untested, and the encoder's attention grows with the square of
   * the length. LAVIS truncates prompts far shorter (32 tokens); we refuse instead of truncating,
   * so that no question is answered silently cut.
   */
  public static final int MAX_ENCODER_TOKENS = 512;

  private T5Model(T5Bundle bundle, T5Graphs graphs) {
    super(bundle, graphs);
  }

  /**
   * Opens a loaded T5 bundle's graphs and tokenizer, after checking that the model fits in memory.
   *
   * @throws io.shoplens.processor.inference.bundle.BundleException naming the graph whose inputs or
   *     outputs differ from the manifest's dimensions
   * @throws EngineStartupException when it does not fit ({@link MemoryCheck}), before any graph is
   *     loaded, or when ONNX Runtime cannot open a graph
   */
  public static T5Model open(T5Bundle bundle, EngineConfig config) {
    T5Manifest m = bundle.manifest();
    MemoryCheck.require(m.modelVersion(), MemoryEstimate.of(m, config), config);
    return build(T5Graphs.open(bundle, config), graphs -> new T5Model(bundle, graphs));
  }

  /**
   * Token rows one request may need at most: a full encoder input and the longest answer. The
   * default KV budget is {@code maxBatchSize} of these.
   */
  static long rowTokens() {
    return (long) MAX_ENCODER_TOKENS + DecodingOptions.MAX_NEW_TOKENS_LIMIT;
  }

  public T5Manifest manifest() {
    return bundle.manifest();
  }

  /** T5's encoder is bidirectional: the query positions attend to the prompt. */
  @Override
  public boolean reusesImagePrefixes() {
    return false;
  }

  /**
   * Digests the image and builds the encoder ids: Q image tokens, then the prompt's ids with {@code
   * </s>}.
   *
   * @throws IllegalArgumentException for a wrong pixel tensor size, a prompt that contains the
   *     image token, or one longer than {@link #MAX_ENCODER_TOKENS}
   */
  @Override
  public Blip2Model.Prepared prepare(GenerationRequest request) {
    long start = System.nanoTime();
    T5Manifest m = bundle.manifest();
    String sha = Blip2Model.imageKey(request, m.vision());
    String text =
        PromptBuilder.text(m.prompt(), request.prompt(), request.question(), request.history());
    // A caption is the empty prompt: the tokenizer gives </s> alone, as LAVIS's default prompt "".
    long[] textIds = tokenizer.encode(text == null ? "" : text);
    int q = m.numQueryTokens();
    for (long id : textIds) {
      if (id == m.tokens().imageTokenId()) {
        throw new IllegalArgumentException(
            "request " + request.requestId() + ": the prompt text contains the image token");
      }
    }
    if (q + textIds.length > MAX_ENCODER_TOKENS) {
      throw new IllegalArgumentException(
          "request "
              + request.requestId()
              + ": prompt of "
              + textIds.length
              + " tokens plus "
              + q
              + " image tokens is longer than the T5 encoder accepts ("
              + MAX_ENCODER_TOKENS
              + " tokens)");
    }
    long[] ids = new long[q + textIds.length];
    Arrays.fill(ids, 0, q, m.tokens().imageTokenId());
    System.arraycopy(textIds, 0, ids, q, textIds.length);
    return new Blip2Model.Prepared(request, ids, sha, System.nanoTime() - start);
  }

  /** An {@link EncoderDecoderBatch}; {@code prefixes} is ignored (see the class comment). */
  @Override
  public <T> DecodingBatch<T> newBatch(EngineConfig config, PrefixStore prefixes) {
    long perToken = EncoderDecoderBatch.bytesPerToken(bundle.manifest().text());
    return new EncoderDecoderBatch<>(
        graphs, config.maxBatchSize(), config.kvBudgetTokens(perToken, (int) rowTokens()));
  }

  @Override
  public GenerationResult result(Blip2Model.Encoded e, RunningBatch.Finished<?> finished) {
    return Blip2Model.result(
        modelVersion(),
        tokenizer,
        e,
        finished.hypotheses(),
        finished.prefillNanos(),
        finished.decodeNanos());
  }
}
