package io.shoplens.processor.options;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class OptionChecksTest {

  @Test
  void shouldNameTheSettingTheBoundAndTheValueWhenBelowTheMinimum() {
    // Given / When / Then
    assertThatThrownBy(() -> OptionChecks.atLeast("fetchThreads", 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("fetchThreads must be >= 1, got 0");
    assertThatCode(() -> OptionChecks.atLeast("fetchThreads", 1, 1)).doesNotThrowAnyException();
  }

  @Test
  void shouldAcceptBothEndsOfARangeAndRefuseOutside() {
    assertThatCode(() -> OptionChecks.inRange("topK", 1, 1, 1000)).doesNotThrowAnyException();
    assertThatCode(() -> OptionChecks.inRange("topK", 1000, 1, 1000)).doesNotThrowAnyException();
    assertThatThrownBy(() -> OptionChecks.inRange("topK", 1001, 1, 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("topK must be in [1, 1000], got 1001");
    assertThatThrownBy(() -> OptionChecks.inRange("topK", 0, 1, 1000))
        .hasMessage("topK must be in [1, 1000], got 0");
  }

  @Test
  void shouldRefuseZeroAndNegativeDurationsWherePositiveIsRequired() {
    assertThatThrownBy(() -> OptionChecks.positive("viewTtl", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("viewTtl must be positive, got PT0S");
    assertThatThrownBy(() -> OptionChecks.positive("viewTtl", null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("viewTtl");
    assertThatCode(() -> OptionChecks.positive("viewTtl", Duration.ofMillis(1)))
        .doesNotThrowAnyException();
  }

  @Test
  void shouldAcceptZeroButNotANegativeDurationWhereNotNegativeIsRequired() {
    assertThatCode(() -> OptionChecks.notNegative("retryBackoff", Duration.ZERO))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> OptionChecks.notNegative("retryBackoff", Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("retryBackoff must not be negative, got PT-0.001S");
  }

  @Test
  void shouldRefuseBlankAndNullText() {
    assertThatThrownBy(() -> OptionChecks.notBlank("modelId", " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("modelId must not be blank");
    assertThatThrownBy(() -> OptionChecks.notBlank("modelId", null))
        .isInstanceOf(NullPointerException.class);
  }
}
