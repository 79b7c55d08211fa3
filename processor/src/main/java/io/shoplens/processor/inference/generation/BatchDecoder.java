package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.onnx.KvCache;
import io.shoplens.processor.inference.text.PromptBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a batch of prompts together with a KV cache, each request with its own options.
 *
 * <p>Rows are laid out as Hugging Face lays them out: each request occupies {@code numBeams} rows
 * (beam search) or {@code numReturnSequences} rows (greedy, sampling), prompts are left-padded
 * after the image tokens, the attention mask grows by one for every row at every step (finished
 * rows keep receiving the pad token), and position ids are OPT's, from the mask. Requests finish
 * independently; the batch stops when all have.
 */
public final class BatchDecoder {
  private final Blip2Graphs graphs;
  private final ModelManifest manifest;

  public BatchDecoder(Blip2Graphs graphs) {
    this.graphs = graphs;
    this.manifest = graphs.manifest();
  }

  /**
   * What to decode for one request.
   *
   * @param promptIds image tokens then text ids
   * @param queryEmbeds the image's query embeddings, [Q, H]
   * @param options generation options
   * @param seed the request's seed (sampling)
   */
  public record Input(long[] promptIds, float[] queryEmbeds, DecodingOptions options, long seed) {}

  /**
   * What came out for one request.
   *
   * @param hypotheses returned sequences, best first
   * @param prefillNanos time of the batch's prefill
   * @param decodeNanos time from the end of prefill until this request finished
   */
  public record Output(List<Hypothesis> hypotheses, long prefillNanos, long decodeNanos) {}

  /** Decodes the batch; every output corresponds to the input at the same index. */
  public List<Output> decode(List<Input> inputs) {
    int q = manifest.numQueryTokens();
    int hidden = manifest.text().hiddenSize();
    int vocab = manifest.text().vocabSize();
    long pad = manifest.tokens().padTokenId();
    long imageToken = manifest.tokens().imageTokenId();
    List<Integer> stops = manifest.tokens().stopTokenIds();

    List<SequenceGroup> groups = new ArrayList<>();
    List<long[]> rowPrompts = new ArrayList<>();
    List<float[]> rowImages = new ArrayList<>();
    int maxNew = 0;
    for (Input in : inputs) {
      SequenceGroup group =
          SequenceGroup.create(rowPrompts.size(), in.options(), stops, pad, in.seed());
      groups.add(group);
      for (int r = 0; r < group.rows; r++) {
        rowPrompts.add(in.promptIds());
        rowImages.add(in.queryEmbeds());
      }
      maxNew = Math.max(maxNew, in.options().maxNewTokens());
    }
    int rows = rowPrompts.size();
    PromptBuilder.Padded padded = PromptBuilder.pad(rowPrompts, q, pad);
    int length = padded.length();

    long start = System.nanoTime();
    // Prefill: embed the prompt ids, then put each image's query embeddings where its image
    // tokens are (Blip2ForConditionalGeneration's masked_scatter, row by row).
    float[] embeds = graphs.embed(padded.ids(), rows, length);
    for (int r = 0; r < rows; r++) {
      float[] image = rowImages.get(r);
      int k = 0;
      for (int t = 0; t < length; t++) {
        if (padded.ids()[r * length + t] == imageToken && padded.mask()[r * length + t] == 1) {
          System.arraycopy(image, k * hidden, embeds, (r * length + t) * hidden, hidden);
          k++;
        }
      }
      if (k != q) {
        throw new IllegalArgumentException(
            "row " + r + " has " + k + " image tokens, expected " + q);
      }
    }
    long[] mask = padded.mask();
    long[] ones = new long[rows];
    long[] positions = new long[rows * length];
    for (int r = 0; r < rows; r++) {
      long sum = 0;
      for (int t = 0; t < length; t++) {
        long m = mask[r * length + t];
        sum += m;
        // Padding gets 0, as Hugging Face's generate() passes (masked, so any value would do).
        positions[r * length + t] = m == 1 ? sum - 1 : 0;
      }
      ones[r] = sum;
    }
    KvCache cache = graphs.newCache(rows, length + maxNew);
    long prefillEnd;
    try {
      float[] logits = new float[rows * vocab];
      graphs.decode(embeds, length, mask, positions, cache, logits);
      prefillEnd = System.nanoTime();

      long[] nextTokens = new long[rows];
      int[] sourceRows = new int[rows];
      int total = length;
      while (true) {
        boolean allDone = true;
        for (SequenceGroup group : groups) {
          if (!group.done()) {
            group.step(logits, vocab, nextTokens, sourceRows);
            if (group.done()) {
              group.doneAtNanos = System.nanoTime();
            }
          } else {
            for (int j = 0; j < group.rows; j++) {
              nextTokens[group.firstRow + j] = pad;
              sourceRows[group.firstRow + j] = group.firstRow + j;
            }
          }
          allDone &= group.done();
        }
        if (allDone) {
          break;
        }
        cache.reorder(sourceRows);
        total++;
        long[] stepMask = new long[rows * total];
        long[] stepPositions = new long[rows];
        for (int r = 0; r < rows; r++) {
          System.arraycopy(mask, r * (total - 1), stepMask, r * total, total - 1);
          stepMask[r * total + total - 1] = 1;
          ones[r]++;
          stepPositions[r] = ones[r] - 1;
        }
        mask = stepMask;
        float[] stepEmbeds = graphs.embed(nextTokens, rows, 1);
        graphs.decode(stepEmbeds, 1, mask, stepPositions, cache, logits);
      }
    } finally {
      graphs.recycle(cache);
    }

    List<Output> outputs = new ArrayList<>();
    for (SequenceGroup group : groups) {
      outputs.add(new Output(group.results(), prefillEnd - start, group.doneAtNanos - prefillEnd));
    }
    return outputs;
  }
}
