package io.shoplens.processor.inference.retrieval;

import java.util.Arrays;

/**
 * One image's query features: Q unit vectors of D floats, row-major. ITC similarity with a text is
 * the maximum over the Q vectors of their dot product with the text's unit vector.
 *
 * @param numQueries Q
 * @param dim D
 * @param vectors Q * D floats, each row L2-normalised
 */
public record ImageFeatures(int numQueries, int dim, float[] vectors) {

  public ImageFeatures {
    if (numQueries <= 0 || dim <= 0 || vectors.length != numQueries * dim) {
      throw new IllegalArgumentException(
          "expected "
              + numQueries
              + " x "
              + dim
              + " = "
              + numQueries * dim
              + " floats, got "
              + vectors.length);
    }
    vectors = vectors.clone();
  }

  /** The floats, row-major (a copy). */
  @Override
  public float[] vectors() {
    return vectors.clone();
  }

  /** Query vector {@code q} (a copy). */
  public float[] query(int q) {
    return Arrays.copyOfRange(vectors, q * dim, (q + 1) * dim);
  }

  /** ITC similarity with a text feature vector: max over the query vectors of the dot product. */
  public float similarity(float[] text) {
    if (text.length != dim) {
      throw new IllegalArgumentException(
          "expected a " + dim + "-d text vector, got " + text.length);
    }
    float best = Float.NEGATIVE_INFINITY;
    for (int q = 0; q < numQueries; q++) {
      float dot = 0;
      int base = q * dim;
      for (int d = 0; d < dim; d++) {
        dot += vectors[base + d] * text[d];
      }
      best = Math.max(best, dot);
    }
    return best;
  }

  /**
   * The mean of the query vectors, L2-normalised: one vector per image for an ANN index whose
   * candidates are then re-ranked by {@link #similarity} over all Q vectors.
   */
  public float[] pooled() {
    return pooled(vectors, dim);
  }

  /**
   * The L2-normalised mean of the rows of {@code dim} floats in {@code rows}, summed in float in
   * row order (a zero mean stays zero): what {@link #pooled()} gives, for callers that hold the
   * rows of several items in their own arrays.
   */
  public static float[] pooled(float[] rows, int dim) {
    float[] mean = new float[dim];
    for (int i = 0; i < rows.length; i++) {
      mean[i % dim] += rows[i];
    }
    double norm = 0;
    for (float x : mean) {
      norm += (double) x * x;
    }
    float scale = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
    for (int d = 0; d < dim; d++) {
      mean[d] *= scale;
    }
    return mean;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageFeatures f
        && f.numQueries == numQueries
        && f.dim == dim
        && Arrays.equals(f.vectors, vectors);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * numQueries + dim) + Arrays.hashCode(vectors);
  }

  @Override
  public String toString() {
    return "ImageFeatures[" + numQueries + " x " + dim + "]";
  }
}
