package io.shoplens.processor.inference;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A map in access order that keeps its {@code capacity} most recently used entries, dropping the
 * least recently used one when a put goes beyond. Not thread-safe: its owners synchronise.
 */
final class LruMap<K, V> extends LinkedHashMap<K, V> {
  private static final long serialVersionUID = 1L;

  private final int capacity;

  LruMap(int capacity) {
    super(16, 0.75f, true);
    this.capacity = capacity;
  }

  @Override
  protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
    return size() > capacity;
  }
}
