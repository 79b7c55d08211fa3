package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.DecodingOptions;
import org.apache.kafka.common.config.ConfigDef.Range;

/**
 * The decoding keys of one kind of request the topology makes on its own (captions, attribute
 * answers): {@code <prefix>.strategy}, {@code .max.new.tokens}, {@code .min.new.tokens}, {@code
 * .num.beams}, {@code .length.penalty}, {@code .num.return.sequences}, {@code .temperature}, {@code
 * .top.k}, {@code .top.p} and {@code .repetition.penalty}: the arguments of LAVIS's {@code
 * generate()}. Each key defaults to the matching component of the given {@link DecodingOptions}
 * (the topology's {@code defaults()}), so a default is stated once. The options are checked
 * together by {@link DecodingOptions}'s constructor; its message is reported under the prefix.
 */
final class DecodingSettings {
  private final String prefix;
  private final String what;
  private final String sequencesUse;
  private final DecodingOptions defaults;

  /**
   * @param group the group whose reference lists the keys, in this place
   * @param prefix e.g. {@code shoplens.caption}
   * @param what what the options generate, for the docs (e.g. "captions")
   * @param sequencesUse what becomes of several returned sequences, for the docs
   * @param defaults the topology's defaults for these requests
   */
  DecodingSettings(
      SettingGroup group,
      String prefix,
      String what,
      String sequencesUse,
      DecodingOptions defaults) {
    this.prefix = prefix;
    this.what = what;
    this.sequencesUse = sequencesUse;
    this.defaults = defaults;
    define(group);
  }

  String key(String suffix) {
    return prefix + "." + suffix;
  }

  /** Defines the keys, {@code max.new.tokens} first (it was the only one before the others). */
  private void define(SettingGroup group) {
    Range newTokens = Range.between(1, DecodingOptions.MAX_NEW_TOKENS_LIMIT);
    group
        .define(key("max.new.tokens"), defaults.maxNewTokens(), newTokens)
        .doc("Most tokens generated for " + what + ".");
    group
        .define(key("strategy"), defaults.strategy())
        .doc(
            "How "
                + what
                + " are decoded: GREEDY, BEAM (beam search, LAVIS's default for captions) or"
                + " SAMPLE (nucleus sampling with top.p, LAVIS's use_nucleus_sampling).");
    group
        .define(
            key("min.new.tokens"),
            defaults.minNewTokens(),
            Range.between(0, DecodingOptions.MAX_NEW_TOKENS_LIMIT))
        .doc(
            "Stop tokens are suppressed until this many tokens were generated (LAVIS's"
                + " min_length).");
    group
        .define(key("num.beams"), defaults.numBeams(), Range.atLeast(1))
        .doc("Beams for BEAM (at least 2); 1 for GREEDY and SAMPLE.");
    group
        .define(key("length.penalty"), defaults.lengthPenalty(), null)
        .doc("BEAM: a finished sequence scores sum of log-probabilities / length^penalty.");
    group
        .define(key("num.return.sequences"), defaults.numReturnSequences(), Range.atLeast(1))
        .doc(
            "Sequences generated per request (LAVIS's num_captions): at most num.beams for BEAM,"
                + " any number of independent samples for SAMPLE, 1 for GREEDY. "
                + sequencesUse);
    group
        .define(key("temperature"), defaults.temperature(), null)
        .doc("SAMPLE: logits are divided by it (> 0).");
    group
        .define(key("top.k"), defaults.topK(), Range.atLeast(0))
        .doc("SAMPLE: keep the k most likely tokens; 0 disables.");
    group
        .define(key("top.p"), defaults.topP(), null)
        .doc("SAMPLE: nucleus threshold in (0, 1]; 1 disables.");
    group
        .define(key("repetition.penalty"), defaults.repetitionPenalty(), null)
        .doc(
            "Hugging Face's repetition_penalty (> 0; 1 = off): scores of tokens already in the"
                + " sequence, the prompt included, are divided by it (multiplied when negative).");
  }

  /**
   * The configured options.
   *
   * @throws IllegalArgumentException naming the prefix and what {@link DecodingOptions} refused
   */
  DecodingOptions options(ShopLensConfig c) {
    try {
      return new DecodingOptions(
          c.getEnum(key("strategy"), DecodingOptions.Strategy.class),
          c.getInt(key("max.new.tokens")),
          c.getInt(key("min.new.tokens")),
          c.getInt(key("num.beams")),
          c.getDouble(key("length.penalty")),
          defaults.earlyStopping(),
          c.getInt(key("num.return.sequences")),
          c.getDouble(key("temperature")),
          c.getInt(key("top.k")),
          c.getDouble(key("top.p")),
          c.getDouble(key("repetition.penalty")));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(prefix + ".*: " + e.getMessage(), e);
    }
  }
}
