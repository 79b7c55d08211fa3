package io.shoplens.processor.testing;

import io.shoplens.processor.topology.Topic;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/**
 * Typed test-driver topics for the topology harnesses: each {@link Topic} brings its own serdes, so
 * a harness names the topic and nothing else.
 */
public final class DriverTopics {
  /** The driver's start time in every harness, and the first record's timestamp. */
  public static final Instant T0 = Instant.parse("2025-03-14T09:26:53.589Z");

  private DriverTopics() {}

  /** An input topic whose records are stamped from {@link #T0}, 1 ms apart. */
  public static <V> TestInputTopic<String, V> input(
      TopologyTestDriver driver, Topic<String, V> topic) {
    return driver.createInputTopic(
        topic.name(),
        topic.keySerde().serializer(),
        topic.valueSerde().serializer(),
        T0,
        Duration.ofMillis(1));
  }

  /** An output topic read with the topic's own serdes. */
  public static <V> TestOutputTopic<String, V> output(
      TopologyTestDriver driver, Topic<String, V> topic) {
    return driver.createOutputTopic(
        topic.name(), topic.keySerde().deserializer(), topic.valueSerde().deserializer());
  }
}
