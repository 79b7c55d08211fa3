package io.shoplens.processor.topology;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/** Reading a whole state store back, as processors do on init after restoration. */
public final class StoreValues {
  private StoreValues() {}

  /**
   * Every value in {@code store}, in key order (for the in-flight stores: arrival order per
   * partition). The iterator is closed before returning: callers go through the list, writing to
   * the store as they like, without holding a store iterator (and its resources) open meanwhile.
   */
  public static <K, V> List<V> all(ReadOnlyKeyValueStore<K, V> store) {
    List<V> values = new ArrayList<>();
    try (KeyValueIterator<K, V> all = store.all()) {
      all.forEachRemaining(kv -> values.add(kv.value));
    }
    return values;
  }
}
