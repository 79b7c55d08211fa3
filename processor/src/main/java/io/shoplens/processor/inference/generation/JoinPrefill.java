package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.onnx.KvCache;
import io.shoplens.processor.inference.text.PromptBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The prefill of the requests joining a {@link RunningBatch}: one decoder pass over their padded
 * prompts, into a cache of their own, either whole or after image prefixes reused from a {@link
 * PrefixStore}. Kept apart from the batch because it touches none of the batch's row bookkeeping.
 */
final class JoinPrefill {
  private final Blip2Graphs graphs;
  private final ModelManifest manifest;
  private final PrefixStore prefixes;
  private final int vocab;

  /**
   * @param graphs the model's graphs
   * @param prefixes where image-prefix KV is reused, or null when only {@link #whole} is used
   */
  JoinPrefill(Blip2Graphs graphs, PrefixStore prefixes) {
    this.graphs = graphs;
    this.manifest = graphs.manifest();
    this.prefixes = prefixes;
    this.vocab = manifest.text().vocabSize();
  }

  /**
   * Prefill in one pass: embed the prompt ids, put each image's query embeddings where its image
   * tokens are (Blip2ForConditionalGeneration's masked_scatter, row by row), run the decoder.
   */
  void whole(
      PromptBuilder.Padded padded,
      List<float[]> rowImages,
      long[] positions,
      KvCache prefill,
      float[] joinLogits) {
    int q = manifest.numQueryTokens();
    int hidden = manifest.text().hiddenSize();
    long imageToken = manifest.tokens().imageTokenId();
    int rows = padded.rows();
    int length = padded.length();
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
    graphs.decode(embeds, length, padded.mask(), positions, prefill, joinLogits);
  }

  /**
   * Prefill that reuses image prefixes: the KV of each image's Q positions comes from the {@link
   * PrefixStore} (computed now, in one decoder pass over the missing images' query embeddings, and
   * stored), and the decoder runs only over the columns after them (padding and text) with those as
   * its past. The image positions come first in every prompt and see nothing after them, so their
   * KV is the same in every prompt about the image.
   */
  void afterImagePrefix(
      PromptBuilder.Padded padded,
      List<float[]> rowImages,
      List<String> rowKeys,
      long[] positions,
      KvCache prefill,
      float[] joinLogits) {
    int q = manifest.numQueryTokens();
    int rows = padded.rows();
    int length = padded.length();
    Map<String, float[]> kvByKey = new HashMap<>();
    Map<String, float[]> missing = new LinkedHashMap<>();
    for (int r = 0; r < rows; r++) {
      String key = rowKeys.get(r);
      if (!kvByKey.containsKey(key) && !missing.containsKey(key)) {
        float[] kv = prefixes.get(key);
        if (kv != null) {
          kvByKey.put(key, kv);
        } else {
          missing.put(key, rowImages.get(r));
        }
      }
    }
    if (!missing.isEmpty()) {
      int m = missing.size();
      int hidden = manifest.text().hiddenSize();
      float[] embeds = new float[m * q * hidden];
      long[] mask = new long[m * q];
      long[] imagePositions = new long[m * q];
      int j = 0;
      for (float[] image : missing.values()) {
        System.arraycopy(image, 0, embeds, j * q * hidden, q * hidden);
        for (int t = 0; t < q; t++) {
          mask[j * q + t] = 1;
          imagePositions[j * q + t] = t;
        }
        j++;
      }
      KvCache images = graphs.newCache(m, q);
      try {
        graphs.decode(embeds, q, mask, imagePositions, images, new float[m * vocab]);
        j = 0;
        for (String key : missing.keySet()) {
          float[] kv = images.row(j++);
          prefixes.put(key, kv);
          kvByKey.put(key, kv);
        }
      } finally {
        graphs.recycle(images);
      }
    }
    List<float[]> past = new ArrayList<>();
    for (String key : rowKeys) {
      past.add(kvByKey.get(key));
    }
    prefill.loadRows(past, q);
    int text = length - q;
    long[] ids = new long[rows * text];
    long[] textPositions = new long[rows * text];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(padded.ids(), r * length + q, ids, r * text, text);
      System.arraycopy(positions, r * length + q, textPositions, r * text, text);
    }
    float[] embeds = graphs.embed(ids, rows, text);
    graphs.decode(embeds, text, padded.mask(), textPositions, prefill, joinLogits);
  }
}
