package io.shoplens.processor.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shoplens.processor.inference.EngineStats;
import org.junit.jupiter.api.Test;

class EngineMetricsTest {

  @Test
  void givenEngineStatsWhenScrapedThenRowsKvAndPrefixCacheAreMeters() {
    // Given stats with 3 busy rows, 1 MiB of KV of a 4 MiB budget, prefix cache traffic and 7
    // images in the vision cache
    EngineStats stats =
        new EngineStats(
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 1 << 20, 4 << 20, 5, 2, 4096, 7);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    EngineMetrics metrics = new EngineMetrics(() -> stats);

    // When
    metrics.bindTo(registry);

    // Then
    assertThat(registry.get("shoplens.engine.rows.busy").gauge().value()).isEqualTo(3);
    assertThat(registry.get("shoplens.engine.kv.bytes").tag("kind", "in_use").gauge().value())
        .isEqualTo(1 << 20);
    assertThat(registry.get("shoplens.engine.kv.bytes").tag("kind", "budget").gauge().value())
        .isEqualTo(4 << 20);
    assertThat(
            registry
                .get("shoplens.engine.prefix.cache")
                .tag("result", "hit")
                .functionCounter()
                .count())
        .isEqualTo(5);
    assertThat(
            registry
                .get("shoplens.engine.prefix.cache")
                .tag("result", "miss")
                .functionCounter()
                .count())
        .isEqualTo(2);
    assertThat(registry.get("shoplens.engine.prefix.cache.bytes").gauge().value()).isEqualTo(4096);
    assertThat(registry.get("shoplens.engine.vision.cache.entries").gauge().value()).isEqualTo(7);
  }
}
