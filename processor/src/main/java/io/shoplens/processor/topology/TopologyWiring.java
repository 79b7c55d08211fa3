package io.shoplens.processor.topology;

import java.util.Map;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * What the ShopLens topology and its parts ({@link ShopLensTopology}, {@code SearchTopology},
 * {@code RecommendTopology}) add to one builder, and the one way each of them adds it: stores of
 * the configured type by string key, global stores filled from a topic, and keyed inputs read as
 * bytes by the processor that owns them.
 *
 * @param builder the builder every part adds to
 * @param config topology settings
 * @param topics the topics used, with their serdes
 */
public record TopologyWiring(StreamsBuilder builder, ShopLensTopologyConfig config, Topics topics) {

  /**
   * Adds a changelogged, uncached key-value store by string key: what every ShopLens processor
   * store is (caching would delay the in-flight writes past the results they guard; logging is the
   * point).
   */
  public <V> void addStore(String name, Serde<V> values) {
    addStore(name, Serdes.String(), values);
  }

  /** As {@link #addStore(String, Serde)}, with keys of another type. */
  public <K, V> void addStore(String name, Serde<K> keys, Serde<V> values) {
    StoreBuilder<KeyValueStore<K, V>> store =
        Stores.keyValueStoreBuilder(config.storeType().supplier(name), keys, values)
            .withLoggingEnabled(Map.of())
            .withCachingDisabled();
    builder.addStateStore(store);
  }

  /**
   * Adds a global key-value store by string key, filled from {@code topic} by {@code processor}
   * (its source named {@code source}): never changelogged (the topic is its log; restoring copies
   * the topic's bytes into the store, so the store's serde is the topic's) and uncached (every
   * instance reads it as it is restored).
   */
  public <V> void addGlobalStore(
      String name,
      String topic,
      Serde<V> values,
      String source,
      ProcessorSupplier<String, V, Void, Void> processor) {
    builder.addGlobalStore(
        Stores.keyValueStoreBuilder(config.storeType().supplier(name), Serdes.String(), values)
            .withLoggingDisabled()
            .withCachingDisabled(),
        topic,
        Consumed.with(Topics.keySerde(), values).withName(source),
        processor);
  }

  /**
   * The records of {@code topic}, read by a source named {@code source} as bytes (the processor
   * reads each value itself, so that one that does not deserialize is dead-lettered as it was),
   * through the processor named {@code name} with its {@code stores}.
   */
  public <O> KStream<String, O> processBytes(
      Topic<String, ?> topic,
      String source,
      ProcessorSupplier<String, byte[], String, O> processor,
      String name,
      String... stores) {
    return builder.stream(
            topic.name(), Consumed.with(Topics.keySerde(), Serdes.ByteArray()).withName(source))
        .process(processor, Named.as(name), stores);
  }
}
