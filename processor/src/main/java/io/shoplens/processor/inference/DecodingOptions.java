package io.shoplens.processor.inference;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * How to pick tokens, with Hugging Face {@code generate()} semantics. Validated on construction.
 *
 * @param strategy greedy, beam search or sampling
 * @param maxNewTokens most tokens generated (a stop token counts)
 * @param minNewTokens stop tokens are suppressed until this many tokens were generated
 * @param numBeams beams per request (beam search only; 1 otherwise)
 * @param lengthPenalty beam scores are divided by {@code length ** lengthPenalty}
 * @param earlyStopping beam search stopping rule, as Hugging Face's {@code early_stopping}
 * @param numReturnSequences sequences returned: at most {@code numBeams} for beam search, any
 *     number of independent samples for sampling, 1 for greedy
 * @param temperature sampling temperature (1 leaves logits unchanged)
 * @param topK keep the k most likely tokens when sampling; 0 disables (Hugging Face's default is
 *     50, and so is {@link #sampling()})
 * @param topP nucleus sampling threshold; 1 disables
 * @param repetitionPenalty Hugging Face's {@code repetition_penalty}: for every token id already in
 *     the sequence (the prompt, image placeholder tokens included, then the generated tokens), a
 *     positive score is divided by it and a negative one multiplied; above 1 discourages
 *     repetition, below 1 encourages it, 1 disables
 */
public record DecodingOptions(
    Strategy strategy,
    int maxNewTokens,
    int minNewTokens,
    int numBeams,
    double lengthPenalty,
    EarlyStopping earlyStopping,
    int numReturnSequences,
    double temperature,
    int topK,
    double topP,
    double repetitionPenalty) {

  /** Hard ceiling on {@code maxNewTokens}, to bound memory per request. */
  public static final int MAX_NEW_TOKENS_LIMIT = 1024;

  /** Token selection strategy. */
  public enum Strategy {
    GREEDY,
    BEAM,
    SAMPLE
  }

  /** Hugging Face's {@code early_stopping}: {@code False}, {@code True} or {@code "never"}. */
  public enum EarlyStopping {
    /** Stop when the best running beam is unlikely to beat the worst finished one. */
    HEURISTIC,
    /** Stop as soon as {@code numBeams} sequences have finished. */
    WHEN_BEAMS_FULL,
    /** Canonical beam search: stop only when no running beam can improve. */
    NEVER
  }

  public DecodingOptions {
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(earlyStopping, "earlyStopping");
    require(
        maxNewTokens >= 1 && maxNewTokens <= MAX_NEW_TOKENS_LIMIT,
        "maxNewTokens must be in [1, " + MAX_NEW_TOKENS_LIMIT + "], got " + maxNewTokens);
    require(
        minNewTokens >= 0 && minNewTokens <= maxNewTokens,
        "minNewTokens must be in [0, maxNewTokens=" + maxNewTokens + "], got " + minNewTokens);
    require(Double.isFinite(lengthPenalty), "lengthPenalty must be finite, got " + lengthPenalty);
    require(
        temperature > 0 && Double.isFinite(temperature),
        "temperature must be positive and finite, got " + temperature);
    require(topK >= 0, "topK must be >= 0, got " + topK);
    require(topP > 0 && topP <= 1, "topP must be in (0, 1], got " + topP);
    require(
        repetitionPenalty > 0 && Double.isFinite(repetitionPenalty),
        "repetitionPenalty must be positive and finite (1 disables), got " + repetitionPenalty);
    require(numReturnSequences >= 1, "numReturnSequences must be >= 1, got " + numReturnSequences);
    switch (strategy) {
      case BEAM -> {
        require(numBeams >= 2, "beam search needs numBeams >= 2, got " + numBeams);
        require(
            numReturnSequences <= numBeams,
            "numReturnSequences must be <= numBeams=" + numBeams + ", got " + numReturnSequences);
      }
      case GREEDY -> {
        require(numBeams == 1, "greedy decoding uses numBeams == 1, got " + numBeams);
        require(
            numReturnSequences == 1,
            "greedy decoding returns one sequence, got numReturnSequences=" + numReturnSequences);
      }
      case SAMPLE -> require(numBeams == 1, "sampling uses numBeams == 1, got " + numBeams);
    }
  }

  /** Greedy decoding of at most 20 new tokens (Hugging Face's default length). */
  public static DecodingOptions greedy() {
    return new DecodingOptions(
        Strategy.GREEDY, 20, 0, 1, 1.0, EarlyStopping.HEURISTIC, 1, 1.0, 50, 1.0, 1.0);
  }

  /** Beam search with {@code numBeams} beams, length penalty 1, heuristic early stopping. */
  public static DecodingOptions beam(int numBeams) {
    return new DecodingOptions(
        Strategy.BEAM, 20, 0, numBeams, 1.0, EarlyStopping.HEURISTIC, 1, 1.0, 50, 1.0, 1.0);
  }

  /** Sampling with Hugging Face's defaults: temperature 1, top-k 50, top-p 1. */
  public static DecodingOptions sampling() {
    return new DecodingOptions(
        Strategy.SAMPLE, 20, 0, 1, 1.0, EarlyStopping.HEURISTIC, 1, 1.0, 50, 1.0, 1.0);
  }

  public DecodingOptions withMaxNewTokens(int max) {
    return copy(
        c -> {
          c.maxNewTokens = max;
          c.minNewTokens = Math.min(minNewTokens, max);
        });
  }

  public DecodingOptions withMinNewTokens(int min) {
    return copy(c -> c.minNewTokens = min);
  }

  public DecodingOptions withLengthPenalty(double penalty) {
    return copy(c -> c.lengthPenalty = penalty);
  }

  public DecodingOptions withEarlyStopping(EarlyStopping rule) {
    return copy(c -> c.earlyStopping = rule);
  }

  public DecodingOptions withNumReturnSequences(int n) {
    return copy(c -> c.numReturnSequences = n);
  }

  public DecodingOptions withSampling(double temperature, int topK, double topP) {
    return copy(
        c -> {
          c.temperature = temperature;
          c.topK = topK;
          c.topP = topP;
        });
  }

  /** The same options with Hugging Face's {@code repetition_penalty} (1 disables). */
  public DecodingOptions withRepetitionPenalty(double penalty) {
    return copy(c -> c.repetitionPenalty = penalty);
  }

  private DecodingOptions copy(Consumer<Copy> change) {
    Copy c = new Copy(this);
    change.accept(c);
    return c.build();
  }

  /**
   * A mutable copy of every component, so that each {@code with*} method states only what it
   * changes; {@link #build} validates through the canonical constructor.
   */
  private static final class Copy {
    private final Strategy strategy;
    private int maxNewTokens;
    private int minNewTokens;
    private final int numBeams;
    private double lengthPenalty;
    private EarlyStopping earlyStopping;
    private int numReturnSequences;
    private double temperature;
    private int topK;
    private double topP;
    private double repetitionPenalty;

    private Copy(DecodingOptions o) {
      this.strategy = o.strategy;
      this.maxNewTokens = o.maxNewTokens;
      this.minNewTokens = o.minNewTokens;
      this.numBeams = o.numBeams;
      this.lengthPenalty = o.lengthPenalty;
      this.earlyStopping = o.earlyStopping;
      this.numReturnSequences = o.numReturnSequences;
      this.temperature = o.temperature;
      this.topK = o.topK;
      this.topP = o.topP;
      this.repetitionPenalty = o.repetitionPenalty;
    }

    private DecodingOptions build() {
      return new DecodingOptions(
          strategy,
          maxNewTokens,
          minNewTokens,
          numBeams,
          lengthPenalty,
          earlyStopping,
          numReturnSequences,
          temperature,
          topK,
          topP,
          repetitionPenalty);
    }
  }

  /** Rows this request occupies in a decoding batch. */
  public int rows() {
    return strategy == Strategy.BEAM ? numBeams : numReturnSequences;
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
