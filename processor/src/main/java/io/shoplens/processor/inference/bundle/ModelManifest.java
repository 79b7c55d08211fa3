package io.shoplens.processor.inference.bundle;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parsed {@code manifest.json} of a model bundle (format version 2, see docs/model-bundle.md).
 * Instances are only built by {@link ModelBundle#load}, which validates every field.
 *
 * @param formatVersion bundle format version (2)
 * @param modelId hub id or local name the bundle was exported from
 * @param modelVersion what outputs carry; changes with the weights
 * @param architecture "blip2-opt"
 * @param dtype the graphs' float type at their inputs and outputs (float32 or float16)
 * @param numQueryTokens number of Q-Former query tokens (image tokens in the prompt)
 * @param vision image preprocessing parameters
 * @param visionTower the {@code vision_tower} object, empty in bundles exported before it
 * @param text language-model dimensions
 * @param tokens special token ids
 * @param prompt prompt templates
 * @param files every other file of the bundle with its checksum
 */
public record ModelManifest(
    int formatVersion,
    String modelId,
    String modelVersion,
    String architecture,
    Dtype dtype,
    int numQueryTokens,
    Vision vision,
    Optional<VisionTower> visionTower,
    Text text,
    Tokens tokens,
    Prompt prompt,
    Map<String, FileEntry> files)
    implements GenerationManifest {

  /**
   * The only format this reader understands: 2, whose decoder returns the last position's logits
   * only. Format 1 (logits for every position) is refused with how to re-export.
   */
  public static final int FORMAT_VERSION = 2;

  public ModelManifest {
    files = Map.copyOf(files);
  }

  /**
   * Image preprocessing, as Hugging Face's {@code BlipImageProcessor} does it.
   *
   * @param imageSize square side after resize
   * @param resample resampling filter name ("bicubic")
   * @param doRescale whether to multiply by {@code rescaleFactor}
   * @param rescaleFactor usually 1/255
   * @param doNormalize whether to subtract mean and divide by std
   * @param imageMean per-channel mean (R, G, B)
   * @param imageStd per-channel std (R, G, B)
   * @param doConvertRgb whether to convert to RGB first
   */
  public record Vision(
      int imageSize,
      String resample,
      boolean doRescale,
      double rescaleFactor,
      boolean doNormalize,
      List<Double> imageMean,
      List<Double> imageStd,
      boolean doConvertRgb) {
    public Vision {
      imageMean = List.copyOf(imageMean);
      imageStd = List.copyOf(imageStd);
    }

    /** Number of floats in one image's CHW pixel tensor. */
    public int pixelCount() {
      return 3 * imageSize * imageSize;
    }
  }

  /**
   * Language-model dimensions.
   *
   * @param hiddenSize H
   * @param numLayers L
   * @param numHeads N
   * @param headDim D (H / N)
   * @param vocabSize V
   * @param maxPositionEmbeddings longest sequence (prompt plus new tokens) the model accepts
   */
  public record Text(
      int hiddenSize,
      int numLayers,
      int numHeads,
      int headDim,
      int vocabSize,
      int maxPositionEmbeddings) {}

  /**
   * Special token ids.
   *
   * @param imageTokenId placeholder id that query embeddings replace
   * @param bosTokenId OPT's bos ({@code </s>})
   * @param eosTokenId eos
   * @param padTokenId id fed for padding and for finished rows
   * @param stopTokenIds generation stops on any of these
   */
  public record Tokens(
      int imageTokenId,
      int bosTokenId,
      int eosTokenId,
      int padTokenId,
      List<Integer> stopTokenIds) {
    public Tokens {
      stopTokenIds = List.copyOf(stopTokenIds);
    }
  }

  /**
   * Prompt templates.
   *
   * @param paddingSide "left" (the only side a decoder-only model generates correctly with)
   * @param questionTemplate template with {@code {question}}
   * @param turnTemplate template with {@code {question}} and {@code {answer}}
   * @param turnSeparator text between turns
   */
  public record Prompt(
      String paddingSide, String questionTemplate, String turnTemplate, String turnSeparator) {}

  /**
   * One listed file.
   *
   * @param sha256 lower-case hex digest
   * @param bytes size in bytes
   */
  public record FileEntry(String sha256, long bytes) {}
}
