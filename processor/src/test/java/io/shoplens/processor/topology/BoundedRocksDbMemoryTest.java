package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WriteOptions;

class BoundedRocksDbMemoryTest {
  private static final long BUDGET = 8L << 20;

  @TempDir Path dir;

  @Test
  void shouldKeepTheMemtablesOfEveryStoreTogetherWithinHalfTheBudget() throws Exception {
    // Given four stores configured by the setter with an 8 MiB budget (4 MiB of memtables); on
    // Kafka Streams' defaults each could hold 3 x 16 MiB of memtables
    BoundedRocksDbMemory setter = new BoundedRocksDbMemory();
    List<Options> options = new ArrayList<>();
    List<RocksDB> stores = new ArrayList<>();
    byte[] value = new byte[4096];
    Arrays.fill(value, (byte) 7);
    try (WriteOptions noWal = new WriteOptions().setDisableWAL(true)) {
      for (int s = 0; s < 4; s++) {
        Options o = new Options().setCreateIfMissing(true);
        o.setTableFormatConfig(new BlockBasedTableConfig());
        setter.setConfig("store-" + s, o, Map.of(BoundedRocksDbMemory.MEMORY_BYTES_CONFIG, BUDGET));
        options.add(o);
        stores.add(RocksDB.open(o, dir.resolve("store-" + s).toString()));
      }

      // When 8 MiB are written to each store (32 MiB in all), as a store under steady load does
      for (int i = 0; i < 2048; i++) {
        for (RocksDB db : stores) {
          db.put(noWal, ("key-" + i).getBytes(StandardCharsets.UTF_8), value);
        }
      }

      // Then the memtables of all four stores together come down to the budget (the write buffer
      // half, 4 MiB, plus memtables still being flushed) while writes go on, and stay there: the
      // manager asks for flushes on the write path and RocksDB flushes in the background. Without
      // the setter none of the 32 MiB would be flushed.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                long memtables = 0;
                for (RocksDB db : stores) {
                  db.put(noWal, "tick".getBytes(StandardCharsets.UTF_8), value);
                  memtables += db.getLongProperty("rocksdb.cur-size-all-mem-tables");
                }
                assertThat(memtables).isLessThanOrEqualTo(BUDGET);
              });
      // and everything written is still there
      for (RocksDB db : stores) {
        assertThat(db.get("key-2047".getBytes(StandardCharsets.UTF_8))).isEqualTo(value);
      }
    } finally {
      stores.forEach(RocksDB::close);
      for (int s = 0; s < options.size(); s++) {
        setter.close("store-" + s, options.get(s));
        options.get(s).close();
      }
    }
  }

  @Test
  void shouldBeTheTopologysRocksDbConfigSetter() {
    assertThat(ShopLensTopology.streamsConfig())
        .containsEntry(
            StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedRocksDbMemory.class.getName());
  }

  @Test
  void shouldReadTheBudgetFromTheStreamsSettingsOrDefault() {
    assertThat(BoundedRocksDbMemory.memoryBytes(Map.of()))
        .isEqualTo(BoundedRocksDbMemory.MEMORY_BYTES_DEFAULT);
    assertThat(
            BoundedRocksDbMemory.memoryBytes(
                Map.of(BoundedRocksDbMemory.MEMORY_BYTES_CONFIG, "33554432")))
        .isEqualTo(32L << 20);
    assertThatThrownBy(
            () ->
                BoundedRocksDbMemory.memoryBytes(
                    Map.of(BoundedRocksDbMemory.MEMORY_BYTES_CONFIG, "lots")))
        .hasMessageContaining("must be a number of bytes, got 'lots'");
    assertThatThrownBy(
            () ->
                BoundedRocksDbMemory.memoryBytes(
                    Map.of(BoundedRocksDbMemory.MEMORY_BYTES_CONFIG, 1024)))
        .hasMessageContaining("at least 1048576");
  }
}
