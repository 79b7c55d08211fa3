package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.topology.ExpiryKey.Kind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.junit.jupiter.api.Test;

/** The expiry index key: one codec, and byte order that is expiry order. */
class ExpiryKeyTest {
  private final Serde<ExpiryKey> serde = ExpiryKey.serde();

  @Test
  void shouldRoundTripEveryKindThroughTheSerde() {
    // Given keys of every kind, including store keys with separators and non-ASCII text
    List<ExpiryKey> keys =
        List.of(
            new ExpiryKey(1_000, Kind.UPLOAD, "u1"),
            new ExpiryKey(0, Kind.WAITING_QUESTION, "u1\u0000000000000000000000042"),
            new ExpiryKey(Long.MAX_VALUE, Kind.CONVERSATION, "u|1\u0000c-é"));

    // When / Then
    for (ExpiryKey key : keys) {
      byte[] bytes = serde.serializer().serialize("t", key);
      assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo(key);
    }
  }

  @Test
  void shouldKeepTheIndexKeyFormatOfTheExistingChangelog() {
    // Given / When / Then: the format written before the key had a type
    assertThat(new ExpiryKey(1_234, Kind.UPLOAD, "u1").encode())
        .isEqualTo("0000000000000001234|U|u1");
    assertThat(new ExpiryKey(5, Kind.CONVERSATION, "k").encode())
        .isEqualTo("0000000000000000005|C|k");
    assertThat(new ExpiryKey(9, Kind.WAITING_QUESTION, "w").encode())
        .isEqualTo("0000000000000000009|W|w");
  }

  @Test
  void shouldSortSerializedKeysByExpiryTimeWhateverTheKindAndKey() {
    // Given keys whose times differ in digit count, and whose store keys would sort the other way
    List<ExpiryKey> inExpiryOrder =
        List.of(
            new ExpiryKey(-5, Kind.WAITING_QUESTION, "\uffff"),
            new ExpiryKey(9, Kind.WAITING_QUESTION, "zzz"),
            new ExpiryKey(10, Kind.CONVERSATION, "zz"),
            new ExpiryKey(10, Kind.UPLOAD, "a"),
            new ExpiryKey(99, Kind.UPLOAD, "\uffff\uffff"),
            new ExpiryKey(100, Kind.CONVERSATION, ""),
            new ExpiryKey(1_700_000_000_000L, Kind.UPLOAD, "a"),
            new ExpiryKey(Long.MAX_VALUE, Kind.UPLOAD, ""));
    List<ExpiryKey> shuffled = new ArrayList<>(inExpiryOrder);
    Collections.reverse(shuffled);

    // When sorted as the stores sort keys: by their serialized bytes, unsigned
    shuffled.sort(Comparator.comparing(k -> Bytes.wrap(serde.serializer().serialize("t", k))));

    // Then the order is expiry time order
    assertThat(shuffled).containsExactlyElementsOf(inExpiryOrder);
    assertThat(
            Arrays.compareUnsigned(
                serde.serializer().serialize("t", new ExpiryKey(1, Kind.UPLOAD, "x")),
                serde.serializer().serialize("t", new ExpiryKey(2, Kind.CONVERSATION, "a"))))
        .isNegative();
  }

  @Test
  void shouldClampNegativeTimesToZero() {
    assertThat(new ExpiryKey(-1, Kind.UPLOAD, "u").expiresAt()).isZero();
  }

  @Test
  void shouldRefuseWhatIsNotAnIndexKey() {
    assertThatThrownBy(() -> ExpiryKey.decode("0000000000000001234|X|u1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'X'");
    assertThatThrownBy(() -> ExpiryKey.decode("12|U|u1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an expiry index key");
  }
}
