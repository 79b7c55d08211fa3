package io.shoplens.registry;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/** A bounded map that evicts the least recently used entry; thread-safe by locking. */
final class LruCache<K, V> {
  private final int capacity;
  private final LinkedHashMap<K, V> map;

  LruCache(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    }
    this.capacity = capacity;
    this.map =
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > LruCache.this.capacity;
          }
        };
  }

  synchronized V get(K key) {
    return map.get(key);
  }

  synchronized void put(K key, V value) {
    map.put(key, value);
  }

  synchronized void removeIf(Predicate<K> keyFilter) {
    map.keySet().removeIf(keyFilter);
  }

  synchronized int size() {
    return map.size();
  }

  int capacity() {
    return capacity;
  }
}
