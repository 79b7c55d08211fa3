package io.shoplens.processor.topology.recommend;

import io.shoplens.processor.topology.StoreValues;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the global catalog store and the instance's {@link CatalogIndex} in step with the
 * embeddings topic: an entry is put in both, a tombstone removes the product from both. Runs on the
 * global-store thread of each instance, which reads every partition of the embeddings topic.
 *
 * <p>On start the index is rebuilt from the store, so it is whole whether the store was restored by
 * re-running this processor over the topic or by copying the topic (or a local RocksDB checkpoint)
 * into the store.
 */
final class CatalogStoreProcessor implements Processor<String, CatalogEntry, Void, Void> {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogStoreProcessor.class);

  private final CatalogIndex index;
  private KeyValueStore<String, CatalogEntry> store;

  CatalogStoreProcessor(CatalogIndex index) {
    this.index = index;
  }

  @Override
  public void init(ProcessorContext<Void, Void> context) {
    store = context.getStateStore(RecommendTopology.CATALOG_STORE);
    index.clear();
    long start = System.nanoTime();
    int threads = Runtime.getRuntime().availableProcessors();
    // HNSW insertion is most of a rebuild (minutes at 1M products): one thread per core, as the
    // benchmark's build. The global thread waits; nothing reads the index before it is whole.
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "shoplens-catalog-rebuild");
              t.setDaemon(true);
              return t;
            });
    try {
      index.putAll(StoreValues.all(store).iterator(), pool);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while rebuilding the catalog index", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("catalog index rebuild failed", e.getCause());
    } finally {
      pool.shutdownNow();
    }
    LOG.info(
        "catalog index rebuilt from the store: {} products in {} ms on {} threads",
        index.size(),
        (System.nanoTime() - start) / 1_000_000,
        threads);
  }

  @Override
  public void process(Record<String, CatalogEntry> record) {
    String productId = record.key();
    if (productId == null) {
      return; // the embedder never writes one; nothing to key it by
    }
    if (record.value() == null) {
      store.delete(productId);
      index.remove(productId);
    } else {
      store.put(productId, record.value());
      index.put(record.value());
    }
  }
}
