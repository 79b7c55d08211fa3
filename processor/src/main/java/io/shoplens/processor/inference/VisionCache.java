package io.shoplens.processor.inference;

import java.util.Map;

/**
 * Query embeddings by (image sha256, model version), least recently used evicted first. A second
 * question about the same image skips the vision graph. Thread-safe; {@code capacity} 0 caches
 * nothing.
 */
public final class VisionCache {
  /**
   * Cache key.
   *
   * @param imageSha256 hex sha256 of the image bytes (or of the pixel tensor)
   * @param modelVersion model version the embeddings came from
   */
  public record Key(String imageSha256, String modelVersion) {}

  private final int capacity;
  private final Map<Key, float[]> entries;

  public VisionCache(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
    }
    this.capacity = capacity;
    this.entries = new LruMap<>(capacity);
  }

  /** The embeddings, or null; a hit makes the entry most recently used. */
  public synchronized float[] get(Key key) {
    return entries.get(key);
  }

  /** Stores embeddings (callers must not modify the array afterwards). */
  public synchronized void put(Key key, float[] queryEmbeds) {
    if (capacity > 0) {
      entries.put(key, queryEmbeds);
    }
  }

  /** Entries held now. */
  public synchronized int size() {
    return entries.size();
  }
}
