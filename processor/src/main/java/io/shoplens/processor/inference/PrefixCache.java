package io.shoplens.processor.inference;

import io.shoplens.processor.inference.generation.PrefixStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The KV of image prefixes by (image sha256, model version), least recently used evicted first once
 * their bytes exceed the capacity; beside the {@link VisionCache}, which keeps the same images'
 * query embeddings. A caption, five attribute prompts and every question about one upload compute
 * the image positions' keys and values once. Thread-safe; capacity 0 caches nothing.
 */
public final class PrefixCache implements PrefixStore {
  private final long capacityBytes;
  private final String modelVersion;
  private final LinkedHashMap<VisionCache.Key, float[]> entries =
      new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;
  final LongAdder hits = new LongAdder();
  final LongAdder misses = new LongAdder();

  /**
   * @param capacityBytes most bytes of KV kept (0 disables the cache)
   * @param modelVersion the model the prefixes come from (part of every key)
   */
  public PrefixCache(long capacityBytes, String modelVersion) {
    if (capacityBytes < 0) {
      throw new IllegalArgumentException("capacityBytes must be >= 0, got " + capacityBytes);
    }
    this.capacityBytes = capacityBytes;
    this.modelVersion = modelVersion;
  }

  @Override
  public synchronized float[] get(String imageKey) {
    float[] kv = entries.get(new VisionCache.Key(imageKey, modelVersion));
    (kv != null ? hits : misses).increment();
    return kv;
  }

  @Override
  public synchronized void put(String imageKey, float[] kv) {
    long size = 4L * kv.length;
    if (size > capacityBytes) {
      return;
    }
    float[] old = entries.put(new VisionCache.Key(imageKey, modelVersion), kv);
    bytes += size - (old == null ? 0 : 4L * old.length);
    var it = entries.entrySet().iterator();
    while (bytes > capacityBytes && it.hasNext()) {
      Map.Entry<VisionCache.Key, float[]> eldest = it.next();
      bytes -= 4L * eldest.getValue().length;
      it.remove();
    }
  }

  /** Bytes of KV held now. */
  public synchronized long bytes() {
    return bytes;
  }

  /** Entries held now. */
  public synchronized int size() {
    return entries.size();
  }
}
