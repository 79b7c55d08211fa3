package io.shoplens.processor.app.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReplayRequestTest {

  private static final Instant FROM = Instant.parse("2025-01-31T12:00:00Z");

  private static ReplayRequest request(
      Instant to, String applicationId, Duration lookback, int cacheSize) {
    return new ReplayRequest(
        FROM, to, null, Path.of("bundle"), applicationId, false, lookback, cacheSize);
  }

  @Test
  void shouldKeepAValidRequestWithNoUploadIdsAsAnEmptySet() {
    // When
    ReplayRequest r = request(FROM.plusSeconds(60), "replay-1", Duration.ofHours(1), 16);

    // Then
    assertThat(r.uploadIds()).isEmpty();
    assertThat(r.to()).isEqualTo(FROM.plusSeconds(60));
    assertThat(request(null, "replay-1", Duration.ZERO, 1).uploadIds()).isEqualTo(Set.of());
  }

  @Test
  void shouldRefuseAWindowThatDoesNotEndAfterItsStart() {
    assertThatThrownBy(() -> request(FROM, "replay-1", Duration.ZERO, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--to (" + FROM + ") must be after --from (" + FROM + ")");
  }

  @Test
  void shouldRefuseABlankApplicationId() {
    assertThatThrownBy(() -> request(null, " ", Duration.ZERO, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--application-id must not be blank");
  }

  @Test
  void shouldRefuseANegativeUploadLookback() {
    assertThatThrownBy(() -> request(null, "replay-1", Duration.ofSeconds(-1), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("upload lookback must not be negative");
  }

  @Test
  void shouldRefuseACacheSizeBelowOne() {
    assertThatThrownBy(() -> request(null, "replay-1", Duration.ZERO, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cache size must be >= 1, got 0");
  }

  @Test
  void shouldNameAMissingComponent() {
    assertThatThrownBy(() -> request(null, "replay-1", null, 1))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("upload lookback");
  }
}
