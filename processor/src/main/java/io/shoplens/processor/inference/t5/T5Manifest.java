package io.shoplens.processor.inference.t5;

import io.shoplens.processor.inference.bundle.GenerationManifest;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.bundle.VisionTower;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The validated {@code manifest.json} of a BLIP-2 T5 bundle ({@code architecture: blip2-t5},
 * docs/model-bundle.md "BLIP-2 Flan-T5 bundles"). Built only by {@link T5Bundle#load}.
 *
 * @param modelId hub id or local name the bundle was exported from
 * @param modelVersion what outputs carry; changes with the weights
 * @param numQueryTokens Q, the image tokens in front of the prompt
 * @param vision image preprocessing, the same fields as an OPT bundle's
 * @param visionTower the {@code vision_tower} object, empty in bundles exported before it
 * @param text the T5 dimensions
 * @param tokens special token ids
 * @param prompt prompt templates ({@code padding_side} "right")
 * @param files every file of the bundle with its checksum
 */
public record T5Manifest(
    String modelId,
    String modelVersion,
    int numQueryTokens,
    ModelManifest.Vision vision,
    Optional<VisionTower> visionTower,
    Text text,
    Tokens tokens,
    ModelManifest.Prompt prompt,
    Map<String, ModelManifest.FileEntry> files)
    implements GenerationManifest {

  /** The architecture this manifest describes. */
  public static final String ARCHITECTURE = "blip2-t5";

  @Override
  public String architecture() {
    return ARCHITECTURE;
  }

  public T5Manifest {
    files = Map.copyOf(files);
  }

  /**
   * T5 dimensions.
   *
   * @param hiddenSize H (d_model)
   * @param numLayers decoder layers L (the KV tensors per step are 2 L self + 2 L cross)
   * @param numEncoderLayers encoder layers (informative: the encoder graph holds them)
   * @param numHeads N
   * @param headDim D (T5's d_kv; N * D need not equal H)
   * @param vocabSize V
   */
  public record Text(
      int hiddenSize,
      int numLayers,
      int numEncoderLayers,
      int numHeads,
      int headDim,
      int vocabSize) {}

  /**
   * Special token ids.
   *
   * @param imageTokenId placeholder id that query embeddings replace
   * @param eosTokenId {@code </s>}, which the tokenizer appends to every prompt
   * @param padTokenId id of encoder padding and of finished greedy rows
   * @param decoderStartTokenId the decoder's first input
   * @param stopTokenIds generation stops on any of these
   */
  public record Tokens(
      int imageTokenId,
      int eosTokenId,
      int padTokenId,
      int decoderStartTokenId,
      List<Integer> stopTokenIds) {
    public Tokens {
      stopTokenIds = List.copyOf(stopTokenIds);
    }

    /**
     * What Hugging Face pads finished beam hypotheses with: {@code pad_token_id or
     * eos_token_id[0]}, and T5's pad id 0 is false in Python, so {@code </s>}.
     */
    public int beamFillTokenId() {
      return padTokenId != 0 ? padTokenId : stopTokenIds.get(0);
    }
  }
}
