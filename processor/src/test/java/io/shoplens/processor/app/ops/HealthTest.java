package io.shoplens.processor.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.KafkaStreams.State;
import org.junit.jupiter.api.Test;

class HealthTest {

  @Test
  void shouldBeReadyOnlyWhenRunningWithTheModelLoaded() {
    Health health = new Health();
    // Starting: live, not ready
    assertThat(health.status().live()).isTrue();
    assertThat(health.status().ready()).isFalse();

    health.streamsState(State.RUNNING);
    assertThat(health.status().ready()).as("running without a model").isFalse();

    health.modelLoaded("v1");
    assertThat(health.status().ready()).isTrue();
    assertThat(health.status().json())
        .isEqualTo("{\"live\":true,\"ready\":true,\"streams\":\"RUNNING\",\"model\":\"v1\"}");

    health.streamsState(State.REBALANCING);
    assertThat(health.status().live()).isTrue();
    assertThat(health.status().ready()).isFalse();

    health.streamsState(State.PENDING_ERROR);
    assertThat(health.status().live()).isFalse();
    health.streamsState(State.ERROR);
    assertThat(health.status().live()).isFalse();
    assertThat(health.status().ready()).isFalse();
  }
}
