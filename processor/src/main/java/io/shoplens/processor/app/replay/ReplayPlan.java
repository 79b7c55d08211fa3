package io.shoplens.processor.app.replay;

import io.shoplens.processor.topology.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;

/**
 * Which offsets a replay reads, per input partition, found by timestamp as Kafka's application
 * reset tool does for {@code --to-datetime}: the first offset whose timestamp is at or after the
 * time ({@link OffsetSpec#forTimestamp}), or the end of the partition when there is none.
 *
 * <p>The window of a partition is {@code [start, stop)}: {@code start} for {@code from}, {@code
 * stop} for {@code to} but never beyond the end offset (last stable offset) seen when the plan was
 * made, so a replay ends even while the live topics keep growing. Uploads are read from {@code
 * contextStart} (the offset for {@code from - lookback}): uploads before the window are stored for
 * the questions in it, not captioned.
 *
 * <p>Counts are offset spans. They equal record counts unless the topic was written by
 * transactional producers (each commit marker takes an offset).
 */
public record ReplayPlan(Instant from, Instant to, List<Range> ranges) {

  /** The input topics a replay reads, in that order. */
  public static final List<String> INPUT_TOPICS = List.of(Topics.IMAGE_UPLOADS, Topics.QUESTIONS);

  /**
   * One partition's offsets.
   *
   * @param partition the input partition
   * @param contextStart first offset read (below {@code start} only for uploads: lookback)
   * @param start first offset in the window
   * @param stop first offset after the window
   */
  public record Range(TopicPartition partition, long contextStart, long start, long stop) {
    public Range {
      if (contextStart > start || start > stop) {
        throw new IllegalArgumentException(
            "offsets out of order for "
                + partition
                + ": "
                + contextStart
                + ", "
                + start
                + ", "
                + stop);
      }
    }

    /** Offsets in the window. */
    public long records() {
      return stop - start;
    }

    /** Offsets read before the window (uploads for context). */
    public long contextRecords() {
      return start - contextStart;
    }
  }

  public ReplayPlan {
    ranges = List.copyOf(ranges);
  }

  /**
   * Looks the offsets up.
   *
   * @param admin client of the cluster
   * @param from window start
   * @param to window end, or null
   * @param uploadLookback how far before {@code from} uploads are read
   * @param timeout bound on each admin call
   * @throws IllegalStateException when an input topic does not exist or the cluster does not answer
   */
  public static ReplayPlan compute(
      Admin admin, Instant from, Instant to, Duration uploadLookback, Duration timeout)
      throws InterruptedException {
    List<TopicPartition> partitions = new ArrayList<>();
    Map<String, TopicDescription> topics =
        get(admin.describeTopics(INPUT_TOPICS).allTopicNames(), timeout, "describe input topics");
    for (String topic : INPUT_TOPICS) {
      topics.get(topic).partitions().stream()
          .sorted(Comparator.comparingInt(p -> p.partition()))
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    }
    Map<TopicPartition, Long> end = offsets(admin, partitions, OffsetSpec.latest(), timeout);
    Map<TopicPartition, Long> atFrom =
        offsets(admin, partitions, OffsetSpec.forTimestamp(from.toEpochMilli()), timeout);
    Map<TopicPartition, Long> atTo =
        to == null
            ? end
            : offsets(admin, partitions, OffsetSpec.forTimestamp(to.toEpochMilli()), timeout);
    List<TopicPartition> uploads =
        partitions.stream().filter(p -> p.topic().equals(Topics.IMAGE_UPLOADS)).toList();
    long lookbackMs = Math.max(0, from.toEpochMilli() - uploadLookback.toMillis());
    Map<TopicPartition, Long> atLookback =
        offsets(admin, uploads, OffsetSpec.forTimestamp(lookbackMs), timeout);

    List<Range> ranges = new ArrayList<>();
    for (TopicPartition p : partitions) {
      long e = end.get(p);
      long stop = Math.min(orEnd(atTo.get(p), e), e);
      long start = Math.min(orEnd(atFrom.get(p), e), stop);
      long context = Math.min(orEnd(atLookback.getOrDefault(p, start), e), start);
      ranges.add(new Range(p, context, start, stop));
    }
    return new ReplayPlan(from, to, ranges);
  }

  private static long orEnd(Long offset, long end) {
    // -1: no record at or after the timestamp.
    return offset == null || offset < 0 ? end : offset;
  }

  private static Map<TopicPartition, Long> offsets(
      Admin admin, List<TopicPartition> partitions, OffsetSpec spec, Duration timeout)
      throws InterruptedException {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    partitions.forEach(p -> request.put(p, spec));
    // read_committed: the end is the last stable offset, what a read_committed consumer reaches.
    Map<TopicPartition, ListOffsetsResultInfo> info =
        get(
            admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all(),
            timeout,
            "list offsets");
    Map<TopicPartition, Long> out = new HashMap<>();
    info.forEach((p, i) -> out.put(p, i.offset()));
    return out;
  }

  static <T> T get(KafkaFuture<T> future, Duration timeout, String what)
      throws InterruptedException {
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new IllegalStateException(what + ": " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new IllegalStateException(what + ": no answer from the cluster within " + timeout, e);
    }
  }

  /** Offsets in the window, per topic, in {@link #INPUT_TOPICS} order. */
  public Map<String, Long> recordsPerTopic() {
    Map<String, Long> out = new LinkedHashMap<>();
    INPUT_TOPICS.forEach(t -> out.put(t, 0L));
    ranges.forEach(r -> out.merge(r.partition().topic(), r.records(), Long::sum));
    return out;
  }

  /** Offsets in all windows. */
  public long totalRecords() {
    return ranges.stream().mapToLong(Range::records).sum();
  }

  /** Uploads read before the window, for context. */
  public long contextRecords() {
    return ranges.stream().mapToLong(Range::contextRecords).sum();
  }

  /** The range of a partition, or null if it is not an input partition. */
  public Range range(TopicPartition p) {
    for (Range r : ranges) {
      if (r.partition().equals(p)) {
        return r;
      }
    }
    return null;
  }

  /** Prints partitions, offsets and counts. */
  public void print(PrintWriter out) {
    out.printf(
        "window: from %s (inclusive) to %s%n",
        from, to == null ? "the end offsets seen now" : to + " (exclusive)");
    out.printf(
        "%-34s %12s %12s %12s %10s%n", "partition", "read from", "window from", "stop", "records");
    for (Range r : ranges) {
      out.printf(
          "%-34s %12d %12d %12d %10d%n",
          r.partition(), r.contextStart(), r.start(), r.stop(), r.records());
    }
    recordsPerTopic().forEach((t, n) -> out.printf("%-34s %49d records%n", t, n));
    out.printf("%-34s %49d records%n", "total", totalRecords());
    if (contextRecords() > 0) {
      out.printf(
          "plus %d earlier uploads read for context (stored for questions, not captioned)%n",
          contextRecords());
    }
  }
}
