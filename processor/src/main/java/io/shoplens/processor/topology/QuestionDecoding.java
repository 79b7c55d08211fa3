package io.shoplens.processor.topology;

import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import io.shoplens.processor.inference.DecodingOptions;

/**
 * The one rule that turns a question's {@link GenerationOptions} into the engine's {@link
 * DecodingOptions}: the configured answer defaults, overridden field by field by what the question
 * sets. The topology applies it to every {@code QuestionAsked} (a question it refuses is
 * dead-lettered); the gateway applies it before publishing, so that a question it accepts is one
 * the topology accepts under the same settings. An upload's {@code captionOptions} are resolved by
 * the same rule over the configured caption defaults.
 */
public final class QuestionDecoding {
  /** Beam width used when a question asks for BEAM without saying how many beams. */
  public static final int DEFAULT_BEAMS = 4;

  private QuestionDecoding() {}

  /**
   * The options a question is answered with.
   *
   * @param defaults the configured answer options ({@code shoplens.answer.max.new.tokens} and the
   *     rest of {@link ShopLensTopologyConfig#answerOptions()})
   * @param maxNewTokensLimit a question may ask for at most this many new tokens
   * @param asked the question's options; null keeps the defaults
   * @throws IllegalArgumentException naming the option, what was expected and what came instead,
   *     when the result is out of range, inconsistent (e.g. BEAM with one beam) or asks for more
   *     than {@code maxNewTokensLimit} tokens
   */
  public static DecodingOptions resolve(
      DecodingOptions defaults, int maxNewTokensLimit, GenerationOptions asked) {
    if (asked == null) {
      return defaults;
    }
    DecodingOptions.Strategy strategy = defaults.strategy();
    if (asked.getStrategy() != null && asked.getStrategy() != DecodingStrategy.UNKNOWN) {
      strategy = DecodingOptions.Strategy.valueOf(asked.getStrategy().name());
    }
    boolean sameStrategy = strategy == defaults.strategy();
    int numBeams =
        asked.getNumBeams() != null
            ? asked.getNumBeams()
            : strategy != DecodingOptions.Strategy.BEAM
                ? 1
                : sameStrategy ? defaults.numBeams() : DEFAULT_BEAMS;
    int numReturn =
        asked.getNumReturnSequences() != null
            ? asked.getNumReturnSequences()
            : sameStrategy ? defaults.numReturnSequences() : 1;
    int maxNew =
        asked.getMaxNewTokens() != null ? asked.getMaxNewTokens() : defaults.maxNewTokens();
    if (maxNew > maxNewTokensLimit) {
      throw new IllegalArgumentException(
          "maxNewTokens must be at most " + maxNewTokensLimit + ", got " + maxNew);
    }
    int minNew =
        asked.getMinNewTokens() != null
            ? asked.getMinNewTokens()
            : Math.min(defaults.minNewTokens(), Math.max(maxNew, 0));
    DecodingOptions.EarlyStopping early =
        asked.getEarlyStopping() == null
            ? defaults.earlyStopping()
            : asked.getEarlyStopping()
                ? DecodingOptions.EarlyStopping.WHEN_BEAMS_FULL
                : DecodingOptions.EarlyStopping.HEURISTIC;
    return new DecodingOptions(
        strategy,
        maxNew,
        minNew,
        numBeams,
        asked.getLengthPenalty() != null ? asked.getLengthPenalty() : defaults.lengthPenalty(),
        early,
        numReturn,
        asked.getTemperature() != null ? asked.getTemperature() : defaults.temperature(),
        asked.getTopK() != null ? asked.getTopK() : defaults.topK(),
        asked.getTopP() != null ? asked.getTopP() : defaults.topP(),
        asked.getRepetitionPenalty() != null
            ? asked.getRepetitionPenalty()
            : defaults.repetitionPenalty());
  }
}
