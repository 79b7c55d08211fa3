package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

class CatalogStoreProcessorTest {

  @Test
  void shouldRebuildTheIndexFromTheRestoredStoreOnStart() {
    // Given a global store restored with two products (and an index holding a stale one)
    KeyValueStore<String, CatalogEntry> store =
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(RecommendTopology.CATALOG_STORE),
                Serdes.String(),
                CatalogEntry.serde())
            .withLoggingDisabled()
            .build();
    MockProcessorContext<Void, Void> context = new MockProcessorContext<>();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    store.put("a", entry("a"));
    store.put("b", entry("b"));
    CatalogIndex index = new CatalogIndex(AttributeVocabulary.defaults());
    index.put(entry("stale"));

    // When the processor starts
    CatalogStoreProcessor processor = new CatalogStoreProcessor(index);
    processor.init(context);

    // Then the index is exactly the store
    assertThat(index.size()).isEqualTo(2);
    assertThat(index.contains("a")).isTrue();
    assertThat(index.contains("stale")).isFalse();

    // And later records update both, a tombstone removing
    processor.process(new Record<>("c", entry("c"), 0L));
    processor.process(new Record<String, CatalogEntry>("a", null, 0L));
    assertThat(store.get("a")).isNull();
    assertThat(store.get("c")).isNotNull();
    assertThat(index.contains("a")).isFalse();
    assertThat(index.contains("c")).isTrue();
  }

  @Test
  void shouldRoundTripEntriesThroughTheBinarySerde() {
    CatalogEntry e =
        new CatalogEntry(
            "p",
            "Tée ✓",
            "a/b",
            Map.of("colour", "navy"),
            false,
            "u#s",
            "m",
            new float[] {0.5f, -1e-7f},
            3,
            42L);
    var serde = CatalogEntry.serde();
    CatalogEntry back = serde.deserializer().deserialize("t", serde.serializer().serialize("t", e));
    assertThat(back).usingRecursiveComparison().isEqualTo(e);
    assertThat(serde.serializer().serialize("t", null)).isNull();
  }

  private static CatalogEntry entry(String id) {
    return new CatalogEntry(
        id, id, "tops", Map.of("colour", "navy"), true, null, "m", new float[] {1, 0}, 0, 0);
  }
}
