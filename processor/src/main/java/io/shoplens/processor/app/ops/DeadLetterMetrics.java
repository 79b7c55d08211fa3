package io.shoplens.processor.app.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * {@code shoplens.dead.letters} [shoplens_dead_letters_total]: records this instance sent to the
 * dead-letter topic. Read from the Streams producers' own per-topic send counters ({@code
 * producer-topic-metrics / record-send-total}), so the topology needs no metrics code of its own.
 * Under exactly-once a send of an aborted transaction still counts.
 */
public final class DeadLetterMetrics implements MeterBinder {
  private final Supplier<Map<MetricName, ? extends Metric>> metrics;
  private final String topic;

  /**
   * @param metrics the client metrics, e.g. {@code kafkaStreams::metrics}
   * @param topic the dead-letter topic
   */
  public DeadLetterMetrics(Supplier<Map<MetricName, ? extends Metric>> metrics, String topic) {
    this.metrics = metrics;
    this.topic = topic;
  }

  /** Dead letters sent so far by every producer of this instance. */
  public double count() {
    double total = 0;
    for (Map.Entry<MetricName, ? extends Metric> e : metrics.get().entrySet()) {
      MetricName name = e.getKey();
      if (name.name().equals("record-send-total")
          && name.group().equals("producer-topic-metrics")
          && topic.equals(name.tags().get("topic"))
          && e.getValue().metricValue() instanceof Number n) {
        total += n.doubleValue();
      }
    }
    return total;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    FunctionCounter.builder("shoplens.dead.letters", this, DeadLetterMetrics::count)
        .description("Records sent to the dead-letter topic")
        .tag("topic", topic)
        .register(registry);
  }
}
