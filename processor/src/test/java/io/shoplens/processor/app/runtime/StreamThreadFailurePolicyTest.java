package io.shoplens.processor.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.app.runtime.StreamThreadFailurePolicy.Decision;
import io.shoplens.processor.app.runtime.StreamThreadFailurePolicy.Settings;
import io.shoplens.serde.RetriableSerializationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class StreamThreadFailurePolicyTest {
  private static final long SECOND = 1_000_000_000L;

  private static StreamsException registryOut() {
    // As Kafka Streams reports a task failed by DeadLetterDeserializationHandler
    return new StreamsException(
        "Deserialization exception handler is set to fail upon a deserialization error.",
        new RetriableSerializationException(
            "Schema Registry unreachable", new java.io.IOException("503")));
  }

  @Test
  void shouldReplaceTheThreadWithADoublingBackoffWhileTheRegistryIsOut() {
    // Given the policy with 5 replacements in 10 minutes, 1 s doubling up to 5 s
    StreamThreadFailurePolicy policy =
        new StreamThreadFailurePolicy(
            new Settings(5, Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofSeconds(5)));

    // When the registry stays out for five failures
    List<Decision> decisions = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      decisions.add(policy.decide(registryOut(), i * 10 * SECOND));
    }

    // Then each is replaced, waiting 1, 2, 4, 5, 5 s
    assertThat(decisions)
        .containsExactly(
            new Decision.Replace(Duration.ofSeconds(1), 1),
            new Decision.Replace(Duration.ofSeconds(2), 2),
            new Decision.Replace(Duration.ofSeconds(4), 3),
            new Decision.Replace(Duration.ofSeconds(5), 4),
            new Decision.Replace(Duration.ofSeconds(5), 5));
  }

  @Test
  void shouldShutDownOnceTheBoundIsReachedWithinTheWindowSayingWhatToCheck() {
    // Given three replacements already within the window
    StreamThreadFailurePolicy policy =
        new StreamThreadFailurePolicy(
            new Settings(3, Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(4)));
    for (int i = 0; i < 3; i++) {
      assertThat(policy.decide(registryOut(), i * SECOND)).isInstanceOf(Decision.Replace.class);
    }

    // When the registry fails the thread a fourth time within the minute
    Decision d = policy.decide(registryOut(), 50 * SECOND);

    // Then the client shuts down, and the reason names the bound and the setting to check
    assertThat(d).isInstanceOf(Decision.Shutdown.class);
    assertThat(((Decision.Shutdown) d).reason())
        .contains("replaced 3 times within PT1M")
        .contains("schema.registry.url");
  }

  @Test
  void shouldCountOnlyTheReplacementsWithinTheWindow() {
    // Given two replacements at 0 and 30 s under a bound of 2 per minute
    StreamThreadFailurePolicy policy =
        new StreamThreadFailurePolicy(
            new Settings(2, Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(8)));
    policy.decide(registryOut(), 0);
    policy.decide(registryOut(), 30 * SECOND);

    // When the next outage comes 60 s after the first replacement
    Decision d = policy.decide(registryOut(), 60 * SECOND);

    // Then the first has left the window: replaced, as the second in the window
    assertThat(d).isEqualTo(new Decision.Replace(Duration.ofSeconds(2), 2));
    // and one more at 61 s is beyond the bound
    assertThat(policy.decide(registryOut(), 61 * SECOND)).isInstanceOf(Decision.Shutdown.class);
  }

  @Test
  void shouldShutDownAtOnceForAnyOtherFailure() {
    StreamThreadFailurePolicy policy = new StreamThreadFailurePolicy(Settings.defaults());

    // A bug, and a serialization failure that is not the registry's retriable one
    assertThat(policy.decide(new StreamsException("boom", new IllegalStateException("bug")), 0))
        .isInstanceOf(Decision.Shutdown.class);
    assertThat(policy.decide(new SerializationException("bad bytes"), 0))
        .isInstanceOf(Decision.Shutdown.class);
    // and they did not use up replacements
    assertThat(policy.decide(registryOut(), 0))
        .isEqualTo(new Decision.Replace(Duration.ofSeconds(1), 1));
  }

  @Test
  void shouldReplaceNothingWhenTheBoundIsZero() {
    StreamThreadFailurePolicy policy =
        new StreamThreadFailurePolicy(
            new Settings(0, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO));
    assertThat(policy.decide(registryOut(), 0)).isInstanceOf(Decision.Shutdown.class);
  }

  @Test
  void shouldRefuseSettingsThatCannotWork() {
    assertThatThrownBy(() -> new Settings(-1, Duration.ofMinutes(1), Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("maxReplacements must be at least 0, got -1");
    assertThatThrownBy(() -> new Settings(1, Duration.ZERO, Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("window must be positive");
    assertThatThrownBy(
            () ->
                new Settings(
                    1, Duration.ofMinutes(1), Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessageContaining("firstBackoff=PT2S maxBackoff=PT1S");
  }
}
