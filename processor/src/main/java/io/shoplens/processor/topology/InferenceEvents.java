package io.shoplens.processor.topology;

import io.shoplens.events.Attribute;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.FinishReason;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.StageTimings;
import io.shoplens.events.TokenCounts;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.GenerationResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Translation between the Avro events and the engine's requests and results. */
final class InferenceEvents {
  private InferenceEvents() {}

  /**
   * The options for a question: {@link QuestionDecoding#resolve} with the configured defaults.
   *
   * @throws RejectedRecordException.InvalidRecordException when the result is out of range or asks
   *     for more than {@code maxNewTokensLimit} tokens
   */
  static DecodingOptions answerOptions(ShopLensTopologyConfig config, GenerationOptions asked) {
    return options(config.answerOptions(), config, asked, "generation options");
  }

  /**
   * The options for an upload's caption: {@link QuestionDecoding#resolve} with the configured
   * caption defaults and the same new-token limit as questions.
   *
   * @throws RejectedRecordException.InvalidRecordException saying which option does not fit
   */
  static DecodingOptions captionOptions(ShopLensTopologyConfig config, GenerationOptions asked) {
    return options(config.captionOptions(), config, asked, "caption options");
  }

  /**
   * {@code asked} resolved over {@code defaults}; a misfit is refused, its message led by {@code
   * what}.
   */
  private static DecodingOptions options(
      DecodingOptions defaults,
      ShopLensTopologyConfig config,
      GenerationOptions asked,
      String what) {
    try {
      return QuestionDecoding.resolve(defaults, config.maxNewTokensLimit(), asked);
    } catch (IllegalArgumentException e) {
      throw new RejectedRecordException.InvalidRecordException(what + ": " + e.getMessage());
    }
  }

  /**
   * The seed for a request: the question's own, or one derived from a stable id, so that a replay
   * of the same input reproduces the same sampled output.
   */
  static long seed(GenerationOptions asked, String stableId) {
    if (asked != null && asked.getSeed() != null) {
      return asked.getSeed();
    }
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(stableId.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(d).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** The options actually used, in the answer's terms (defaults filled in, seed included). */
  static GenerationOptions report(DecodingOptions o, long seed) {
    return GenerationOptions.newBuilder()
        .setStrategy(DecodingStrategy.valueOf(o.strategy().name()))
        .setMaxNewTokens(o.maxNewTokens())
        .setMinNewTokens(o.minNewTokens())
        .setNumBeams(o.numBeams())
        .setLengthPenalty(o.lengthPenalty())
        .setEarlyStopping(o.earlyStopping() == DecodingOptions.EarlyStopping.WHEN_BEAMS_FULL)
        .setNumReturnSequences(o.numReturnSequences())
        .setTemperature(o.temperature())
        .setTopK(o.topK())
        .setTopP(o.topP())
        .setRepetitionPenalty(o.repetitionPenalty())
        .setSeed(seed)
        .build();
  }

  static ImageCaptioned captioned(
      ShopLensTopologyConfig config,
      ImageUploaded upload,
      Origin origin,
      GenerationResult caption,
      List<GenerationResult> attributes,
      long elapsedNanos,
      long now) {
    List<Attribute> attrs = new ArrayList<>();
    for (int i = 0; i < attributes.size(); i++) {
      attrs.add(
          Attribute.newBuilder()
              .setName(config.attributePrompts().get(i).name())
              .setValue(attributes.get(i).text())
              .setScore(null)
              .build());
    }
    return ImageCaptioned.newBuilder()
        .setUploadId(upload.getUploadId())
        .setUserId(upload.getUserId())
        .setCaption(caption.text())
        .setAlternativeCaptions(alternatives(caption))
        .setAttributes(attrs)
        .setFinishReason(finishReason(caption))
        .setTokenCounts(tokenCounts(config, caption))
        .setModel(model(config, caption))
        .setLineage(lineage(config, origin))
        .setTimings(timings(caption, elapsedNanos))
        .setCaptionedAt(Instant.ofEpochMilli(now))
        .build();
  }

  static QuestionAnswered answered(
      ShopLensTopologyConfig config,
      QuestionAsked question,
      Origin origin,
      DecodingOptions used,
      long seed,
      GenerationResult answer,
      long elapsedNanos,
      long now) {
    return QuestionAnswered.newBuilder()
        .setQuestionId(question.getQuestionId())
        .setUploadId(question.getUploadId())
        .setUserId(question.getUserId())
        .setConversationId(question.getConversationId())
        .setAnswer(answer.text())
        .setAlternatives(alternatives(answer))
        .setFinishReason(finishReason(answer))
        .setTokenCounts(tokenCounts(config, answer))
        .setGenerationOptions(report(used, seed))
        .setModel(model(config, answer))
        .setLineage(lineage(config, origin))
        .setTimings(timings(answer, elapsedNanos))
        .setAnsweredAt(Instant.ofEpochMilli(now))
        .build();
  }

  private static List<String> alternatives(GenerationResult r) {
    return r.alternatives().stream().map(GenerationResult.Sequence::text).toList();
  }

  private static FinishReason finishReason(GenerationResult r) {
    // The engine's STOP is its end-of-sequence (stop) token; the event's STOP is reserved for
    // configured stop sequences, which the engine does not have.
    // (The engine type shares the Avro enum's name, so it is only reached through the result.)
    return switch (r.finishReason()) {
      case STOP -> FinishReason.EOS;
      case LENGTH -> FinishReason.LENGTH;
    };
  }

  private static TokenCounts tokenCounts(ShopLensTopologyConfig config, GenerationResult r) {
    return TokenCounts.newBuilder()
        .setPromptTokens(Math.max(0, r.promptTokens() - config.imageTokens()))
        .setImageTokens(config.imageTokens())
        .setGeneratedTokens(r.generatedTokens())
        .build();
  }

  private static ModelInfo model(ShopLensTopologyConfig config, GenerationResult r) {
    return ModelInfo.newBuilder()
        .setModelId(config.modelId())
        .setModelVersion(r.modelVersion())
        .build();
  }

  static Lineage lineage(ShopLensTopologyConfig config, Origin origin) {
    return Lineage.newBuilder()
        .setSourceTopic(origin.topic())
        .setSourcePartition(origin.partition())
        .setSourceOffset(origin.offset())
        .setReplayRunId(config.replayRunId())
        .build();
  }

  private static StageTimings timings(GenerationResult r, long elapsedNanos) {
    var t = r.timings();
    long queue = Math.max(0, elapsedNanos - t.total().toNanos());
    return StageTimings.newBuilder()
        .setQueueMs(queue / 1_000_000)
        .setPreprocessMs(t.preprocess().toMillis())
        .setVisionMs(t.vision().toMillis())
        .setVisionCacheHit(r.visionCacheHit())
        .setPrefillMs(t.prefill().toMillis())
        .setDecodeMs(t.decode().toMillis())
        .build();
  }
}
