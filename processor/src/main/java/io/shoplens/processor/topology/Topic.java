package io.shoplens.processor.topology;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka topic with the serdes of its keys and values, declared once (see {@link Topics}) so that
 * producers, the topology and tests cannot disagree on either.
 *
 * @param name the topic name, {@code shoplens.<name>.v<N>}
 * @param keySerde serde of the record keys
 * @param valueSerde serde of the record values
 * @param <K> key type
 * @param <V> value type
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
    if (name.isBlank()) {
      throw new IllegalArgumentException("topic name must not be blank");
    }
  }

  /** {@link Produced} with this topic's serdes, for {@code KStream#to}. */
  public Produced<K, V> produced() {
    return Produced.with(keySerde, valueSerde);
  }

  /** {@link Consumed} with this topic's serdes. */
  public Consumed<K, V> consumed() {
    return Consumed.with(keySerde, valueSerde);
  }

  @Override
  public String toString() {
    return name;
  }
}
