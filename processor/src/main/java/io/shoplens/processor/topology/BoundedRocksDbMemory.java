package io.shoplens.processor.topology;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteBufferManager;

/**
 * One off-heap memory budget for every RocksDB store of this JVM: a block cache shared by all
 * stores, with their memtables charged to it through one {@link WriteBufferManager} (the Kafka
 * Streams documentation's "bounded memory" recipe).
 *
 * <p>Why: by default each store instance gets its own 50 MB block cache and up to three 16 MB
 * memtables, so RocksDB's memory grows with partitions x stores (ShopLens has five stores, so four
 * partitions were 20 instances, about 2 GB at the worst) and shows as RSS that climbs for tens of
 * minutes while the memtables fill (the soak saw 74 MB of memtables after 15 minutes with 0 bytes
 * flushed). With this setter the sum is bounded by {@value #MEMORY_BYTES_CONFIG} (default {@value
 * #MEMORY_BYTES_DEFAULT} bytes), half of it for memtables; a full write buffer budget flushes the
 * largest memtable.
 *
 * <p>{@link ShopLensTopology#streamsConfig()} sets it; {@value #MEMORY_BYTES_CONFIG} may be given
 * among the Kafka Streams settings (a ShopLens properties file passes it through). Every store of
 * the JVM shares one budget; a store opened with a different one starts a new shared cache for
 * itself and the stores opened after it (only tests do that).
 */
public final class BoundedRocksDbMemory implements RocksDBConfigSetter {
  /** Bytes of block cache and memtables for all RocksDB stores of the JVM together. */
  public static final String MEMORY_BYTES_CONFIG = "shoplens.rocksdb.memory.bytes";

  /** 128 MiB. */
  public static final long MEMORY_BYTES_DEFAULT = 128L << 20;

  // Index and filter blocks are cached with high priority so that data blocks evict first.
  private static final double HIGH_PRIORITY_POOL_RATIO = 0.1;

  static {
    RocksDB.loadLibrary();
  }

  private record Shared(long bytes, Cache cache, WriteBufferManager writeBuffers) {}

  private static Shared shared;

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Shared s = shared(memoryBytes(configs));
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(s.cache());
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setTableFormatConfig(table);
    options.setWriteBufferManager(s.writeBuffers());
    // Memtables no larger than the whole write budget; two per store so one can flush while the
    // other takes writes.
    options.setWriteBufferSize(Math.min(options.writeBufferSize(), s.bytes() / 2));
    options.setMaxWriteBufferNumber(2);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and the write buffer manager are shared by every store of the JVM: kept open.
  }

  static long memoryBytes(Map<String, Object> configs) {
    Object v = configs == null ? null : configs.get(MEMORY_BYTES_CONFIG);
    if (v == null) {
      return MEMORY_BYTES_DEFAULT;
    }
    long bytes;
    try {
      bytes = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          MEMORY_BYTES_CONFIG + " must be a number of bytes, got '" + v + "'", e);
    }
    if (bytes < (1 << 20)) {
      throw new IllegalArgumentException(
          MEMORY_BYTES_CONFIG + " must be at least 1048576 (1 MiB), got " + bytes);
    }
    return bytes;
  }

  private static synchronized Shared shared(long bytes) {
    if (shared == null || shared.bytes() != bytes) {
      Cache cache = new LRUCache(bytes, -1, false, HIGH_PRIORITY_POOL_RATIO);
      shared = new Shared(bytes, cache, new WriteBufferManager(bytes / 2, cache));
    }
    return shared;
  }
}
