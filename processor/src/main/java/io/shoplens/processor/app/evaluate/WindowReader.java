package io.shoplens.processor.app.evaluate;

import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.evaluate.WindowEvaluation.Request;
import io.shoplens.processor.app.evaluate.WindowEvaluation.Version;
import io.shoplens.processor.app.evaluate.WindowInput.Source;
import io.shoplens.processor.app.replay.ReplayPlan;
import io.shoplens.processor.topology.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads an evaluation window from the live topics: the replay's plan for the window, the uploads
 * back to the upload lookback, the window's uploads and questions, and every answer and caption
 * whose lineage names one of them, grouped by the version that produced it.
 *
 * <p>Reads only, with {@code read_committed}: partitions are assigned, no consumer group is
 * created, nothing is written. Each cluster call and each stretch of reading without progress is
 * bounded by the request's timeout.
 *
 * @param live the live application's configuration (cluster, registry, client security)
 * @param request the window and the timeout
 * @param out where the window's size is printed
 */
record WindowReader(ShopLensConfig live, Request request, PrintWriter out) {
  /**
   * A window as read.
   *
   * @param plan the replay's plan for the window (input offsets and record counts)
   * @param uploads every upload read, by upload id, including those before the window
   * @param inputs the window's uploads and questions with their outputs, in reading order
   */
  record Window(
      ReplayPlan plan, Map<String, ImageUploaded> uploads, Collection<WindowInput> inputs) {}

  /**
   * Reads the window.
   *
   * @throws IllegalStateException when the cluster does not answer within the timeout, or a topic
   *     is missing
   */
  Window read() throws InterruptedException {
    ReplayPlan plan;
    Admin admin = Admin.create(live.adminConfigs());
    try {
      plan =
          ReplayPlan.compute(
              admin, request.from(), request.to(), request.uploadLookback(), request.timeout());
    } finally {
      // Bounded: with an unreachable cluster, close would otherwise wait out the default API
      // timeout.
      admin.close(request.timeout());
    }
    Topics topics = Topics.create(live.kafkaProperties());
    Map<String, ImageUploaded> uploads = new HashMap<>();
    Map<Source, WindowInput> inputs = new LinkedHashMap<>();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer();
        Deserializer<ImageUploaded> uploadValues =
            topics.imageUploads().valueSerde().deserializer();
        Deserializer<QuestionAsked> questionValues =
            topics.questions().valueSerde().deserializer();
        Deserializer<QuestionAnswered> answerValues = topics.answers().valueSerde().deserializer();
        Deserializer<ImageCaptioned> captionValues =
            topics.captions().valueSerde().deserializer()) {
      Map<TopicPartition, long[]> uploadRanges = new HashMap<>();
      Map<TopicPartition, long[]> questionRanges = new HashMap<>();
      for (ReplayPlan.Range r : plan.ranges()) {
        if (r.partition().topic().equals(Topics.IMAGE_UPLOADS)) {
          uploadRanges.put(r.partition(), new long[] {r.contextStart(), r.stop()});
        } else {
          questionRanges.put(r.partition(), new long[] {r.start(), r.stop()});
        }
      }
      read(
          consumer,
          uploadRanges,
          r -> {
            ImageUploaded u = uploadValues.deserialize(r.topic(), r.headers(), r.value());
            uploads.put(u.getUploadId(), u);
            if (r.offset() >= plan.range(tp(r)).start()) {
              addInput(inputs, r, u.getUploadId(), null);
            }
          });
      read(
          consumer,
          questionRanges,
          r -> {
            QuestionAsked q = questionValues.deserialize(r.topic(), r.headers(), r.value());
            addInput(inputs, r, q.getUploadId(), q.getText());
          });
      int[] outputs = {0};
      read(
          consumer,
          outputRanges(consumer, List.of(Topics.ANSWERS, Topics.CAPTIONS)),
          r -> {
            Lineage lineage;
            ModelInfo model;
            String text;
            if (r.topic().equals(Topics.ANSWERS)) {
              QuestionAnswered a = answerValues.deserialize(r.topic(), r.headers(), r.value());
              lineage = a.getLineage();
              model = a.getModel();
              text = a.getAnswer();
            } else {
              ImageCaptioned c = captionValues.deserialize(r.topic(), r.headers(), r.value());
              lineage = c.getLineage();
              model = c.getModel();
              text = c.getCaption();
            }
            WindowInput input = inputs.get(Source.of(lineage));
            if (input != null) {
              outputs[0]++;
              input.outputs.put(
                  new Version(model.getModelVersion(), lineage.getReplayRunId()), text);
            }
          });
      out.printf(
          Locale.ROOT,
          "window: %d uploads, %d questions, %d answers and captions about them%n",
          inputs.values().stream().filter(i -> i.question == null).count(),
          inputs.values().stream().filter(i -> i.question != null).count(),
          outputs[0]);
    }
    return new Window(plan, uploads, inputs.values());
  }

  private KafkaConsumer<byte[], byte[]> consumer() {
    Map<String, Object> props = live.consumerConfigs();
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "shoplens-evaluate-window");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** Adds the input read from {@code r}: an upload ({@code question} null) or a question. */
  private static void addInput(
      Map<Source, WindowInput> inputs, ConsumerRecord<?, ?> r, String uploadId, String question) {
    Source s = new Source(r.topic(), r.partition(), r.offset());
    inputs.put(s, new WindowInput(s, r.timestamp(), uploadId, question));
  }

  private static TopicPartition tp(ConsumerRecord<?, ?> r) {
    return new TopicPartition(r.topic(), r.partition());
  }

  /** From the first offset at or after the window's start to the end (outputs come later). */
  private Map<TopicPartition, long[]> outputRanges(
      KafkaConsumer<byte[], byte[]> consumer, List<String> topicNames) {
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : topicNames) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, request.timeout());
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " does not exist");
      }
      infos.forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    }
    Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, request.timeout());
    Map<TopicPartition, Long> query = new HashMap<>();
    partitions.forEach(p -> query.put(p, request.from().toEpochMilli()));
    Map<TopicPartition, OffsetAndTimestamp> starts =
        consumer.offsetsForTimes(query, request.timeout());
    Map<TopicPartition, long[]> ranges = new HashMap<>();
    for (TopicPartition p : partitions) {
      OffsetAndTimestamp s = starts.get(p);
      long end = ends.get(p);
      ranges.put(p, new long[] {s == null ? end : Math.min(s.offset(), end), end});
    }
    return ranges;
  }

  /**
   * Reads each partition's {@code [start, stop)}, skipping tombstones (nothing to evaluate); gives
   * up after the timeout without progress.
   */
  private void read(
      KafkaConsumer<byte[], byte[]> consumer,
      Map<TopicPartition, long[]> ranges,
      Consumer<ConsumerRecord<byte[], byte[]>> each) {
    Map<TopicPartition, long[]> open = new HashMap<>();
    ranges.forEach(
        (p, r) -> {
          if (r[0] < r[1]) {
            open.put(p, r);
          }
        });
    if (open.isEmpty()) {
      return;
    }
    consumer.assign(open.keySet());
    open.forEach((p, r) -> consumer.seek(p, r[0]));
    long lastProgress = System.nanoTime();
    while (open.keySet().stream().anyMatch(p -> consumer.position(p) < open.get(p)[1])) {
      var records = consumer.poll(Duration.ofMillis(200));
      if (records.isEmpty()) {
        if (System.nanoTime() - lastProgress > request.timeout().toNanos()) {
          throw new IllegalStateException(
              "reading "
                  + open.keySet()
                  + " made no progress for "
                  + request.timeout()
                  + ": is the cluster reachable?");
        }
        continue;
      }
      lastProgress = System.nanoTime();
      for (ConsumerRecord<byte[], byte[]> r : records) {
        if (r.offset() < open.get(tp(r))[1] && r.value() != null) {
          each.accept(r);
        }
      }
    }
    consumer.assign(List.of());
  }
}
