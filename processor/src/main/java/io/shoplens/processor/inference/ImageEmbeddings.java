package io.shoplens.processor.inference;

/**
 * How ShopLens turns BLIP-2's projected query embeddings into one image embedding for similarity
 * search, and the vector arithmetic that goes with it.
 *
 * <p>The vision graph gives {@code Q} query embeddings of the language model's hidden size {@code
 * H} per image ({@code query_embeds [B, Q, H]}: what the language model reads as the image). The
 * image embedding is their <b>mean over Q, L2-normalised</b>, so it has {@code H} dimensions and
 * the cosine similarity of two images is the dot product of their embeddings.
 *
 * <p>Why this choice: the bundle has no image-text contrastive (ITC) head, only the projected
 * queries, and those are what the model's answers are computed from, so images the model describes
 * alike sit close. The mean keeps what the queries say about the image as a whole and costs {@code
 * Q} times less memory and scoring time than concatenating all queries ({@code Q * H} dimensions),
 * which would keep per-query detail but makes a 100k-product index {@code Q} (32 for
 * blip2-opt-2.7b) times larger. Normalising makes cosine a dot product, which the brute-force index
 * relies on. Limits: embeddings from different model versions are not comparable (callers keep the
 * version with each vector), and a zero vector (all queries cancel) stays zero rather than dividing
 * by 0.
 */
public final class ImageEmbeddings {
  private ImageEmbeddings() {}

  /**
   * The image embedding of one image's query embeddings.
   *
   * @param queryEmbeds {@code [Q * H]} row-major (query-major), as the vision graph returns them
   * @param queryTokens {@code Q}, the bundle's {@code num_query_tokens}
   * @return a new {@code [H]} vector of L2 norm 1 (or all zeros when the mean is zero)
   * @throws IllegalArgumentException when the length is not a positive multiple of {@code Q}
   */
  public static float[] meanPoolNormalized(float[] queryEmbeds, int queryTokens) {
    if (queryTokens < 1 || queryEmbeds.length == 0 || queryEmbeds.length % queryTokens != 0) {
      throw new IllegalArgumentException(
          "query embeddings of "
              + queryEmbeds.length
              + " floats are not "
              + queryTokens
              + " query tokens of a positive hidden size");
    }
    int hidden = queryEmbeds.length / queryTokens;
    // Accumulate in double: H up to a few thousand and Q up to 32 sums stay exact enough, and the
    // result must not depend on summation order more than float rounding of the final value.
    double[] sum = new double[hidden];
    for (int q = 0; q < queryTokens; q++) {
      int base = q * hidden;
      for (int h = 0; h < hidden; h++) {
        sum[h] += queryEmbeds[base + h];
      }
    }
    double norm = 0;
    for (double v : sum) {
      norm += v * v;
    }
    norm = Math.sqrt(norm);
    float[] out = new float[hidden];
    if (norm == 0 || !Double.isFinite(norm)) {
      return out;
    }
    for (int h = 0; h < hidden; h++) {
      out[h] = (float) (sum[h] / norm);
    }
    return out;
  }

  /**
   * L2-normalises a copy of {@code v} (all zeros stays all zeros).
   *
   * @return a new vector
   */
  public static float[] normalized(float[] v) {
    double norm = 0;
    for (float x : v) {
      norm += (double) x * x;
    }
    norm = Math.sqrt(norm);
    float[] out = new float[v.length];
    if (norm == 0 || !Double.isFinite(norm)) {
      return out;
    }
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] / norm);
    }
    return out;
  }

  /**
   * Dot product of {@code a} and {@code b[offset .. offset + a.length)}: the cosine similarity when
   * both are normalised.
   */
  public static float dot(float[] a, float[] b, int offset) {
    float s0 = 0;
    float s1 = 0;
    float s2 = 0;
    float s3 = 0;
    int n = a.length;
    int i = 0;
    // Four accumulators break the add dependency chain so the JIT can pipeline (and vectorise).
    for (; i + 3 < n; i += 4) {
      s0 += a[i] * b[offset + i];
      s1 += a[i + 1] * b[offset + i + 1];
      s2 += a[i + 2] * b[offset + i + 2];
      s3 += a[i + 3] * b[offset + i + 3];
    }
    for (; i < n; i++) {
      s0 += a[i] * b[offset + i];
    }
    return (s0 + s1) + (s2 + s3);
  }
}
