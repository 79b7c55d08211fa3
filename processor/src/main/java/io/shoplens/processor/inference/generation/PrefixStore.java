package io.shoplens.processor.inference.generation;

/**
 * Where a {@link RunningBatch} keeps the KV of image prefixes: the first {@code num_query_tokens}
 * positions of every prompt about one image are the same (the image's query embeddings at positions
 * 0..Q-1, padding sits after them), so their keys and values are computed once per image and copied
 * into every later prompt about it. Implementations are thread-safe.
 */
public interface PrefixStore {
  /**
   * The prefix KV of an image, or null.
   *
   * @param imageKey the image's key (its sha256)
   * @return keys and values, [2 * layers][heads][Q][headDim] flattened in that order
   */
  float[] get(String imageKey);

  /** Stores an image's prefix KV (callers do not modify the array afterwards). */
  void put(String imageKey, float[] kv);
}
