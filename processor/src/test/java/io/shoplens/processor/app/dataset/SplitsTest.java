package io.shoplens.processor.app.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SplitsTest {

  @Test
  void shouldPlaceAProductWhereThePythonTrainerDoes() {
    // Values from: int(sha256(f"{seed}:{pid}").hexdigest()[:8], 16) / 0xFFFFFFFF
    assertThat(new Splits(0, 0.1, 0.1).position("p0001"))
        .isCloseTo(0.7550513899780464, within(1e-12));
    assertThat(new Splits(0, 0.1, 0.1).position("shoe-7"))
        .isCloseTo(0.2616378376869573, within(1e-12));
    assertThat(new Splits(42, 0.1, 0.1).position("p0001"))
        .isCloseTo(0.6400220993999444, within(1e-12));
  }

  @Test
  void shouldGiveTheSameSplitForTheSameSeedAndProductWhateverElseIsInTheCatalog() {
    Splits splits = new Splits(7, 0.2, 0.2);
    Map<String, String> first = new HashMap<>();
    for (int i = 0; i < 500; i++) {
      first.put("p" + i, splits.of("p" + i));
    }
    // Adding products (or asking again in another order) moves none of the others
    Splits again = new Splits(7, 0.2, 0.2);
    for (int i = 999; i >= 0; i--) {
      String split = again.of("p" + i);
      if (i < 500) {
        assertThat(split).isEqualTo(first.get("p" + i));
      }
    }
  }

  @Test
  void shouldFillEachSplitInProportionAndChangeWithTheSeed() {
    Map<String, Integer> counts = new HashMap<>();
    int moved = 0;
    for (int i = 0; i < 4000; i++) {
      String s = new Splits(1, 0.1, 0.2).of("product-" + i);
      counts.merge(s, 1, Integer::sum);
      moved += s.equals(new Splits(2, 0.1, 0.2).of("product-" + i)) ? 0 : 1;
    }
    assertThat(counts.get("test") / 4000.0).isCloseTo(0.2, within(0.03));
    assertThat(counts.get("val") / 4000.0).isCloseTo(0.1, within(0.03));
    assertThat(counts.get("train") / 4000.0).isCloseTo(0.7, within(0.03));
    assertThat(moved).isGreaterThan(500);
  }

  @Test
  void shouldPutEverythingInTrainWithZeroFractions() {
    assertThat(new Splits(0, 0, 0).of("p0001")).isEqualTo("train");
  }

  @Test
  void shouldRefuseFractionsThatLeaveNothingForTraining() {
    assertThatThrownBy(() -> new Splits(0, 0.5, 0.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sum below 1");
    assertThatThrownBy(() -> new Splits(0, -0.1, 0.1)).isInstanceOf(IllegalArgumentException.class);
  }
}
