package io.shoplens.processor.app.replay;

import io.shoplens.processor.topology.Topics;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * Decides, record by record, what a replay does with an input record, and counts what it saw. Read
 * and written from stream threads (decisions) and the runner's thread (progress): every method is
 * synchronized.
 *
 * <p>The offsets of the {@link ReplayPlan} bound the window; record timestamps bound it too,
 * because a partition's timestamps need not grow with its offsets (producers set them): a record
 * inside the offsets but stamped outside {@code [from, to)} is skipped.
 */
public final class ReplayWindow {

  /** What happens to one input record. */
  public enum Decision {
    /** In the window: processed as the live application would. */
    PROCESS,
    /** An upload before the window: stored for questions about it, not captioned. */
    CONTEXT,
    /** Outside the window, or not one of the requested uploads: dropped. */
    SKIP
  }

  private final ReplayPlan plan;
  private final long fromMs;
  private final long toMs;
  private final Set<String> uploadIds;
  private final Map<TopicPartition, Seen> seen = new HashMap<>();
  private final Set<String> wrapped = new TreeSet<>();

  /**
   * Offsets seen in one partition; counting only offsets above the highest seen keeps a record that
   * is processed again (after a rebalance or an aborted transaction) from counting twice.
   */
  private static final class Seen {
    long highest = -1;
    long read;
    long processed;
    long skipped;
    long context;
  }

  public ReplayWindow(ReplayPlan plan, Set<String> uploadIds) {
    this.plan = plan;
    this.fromMs = plan.from().toEpochMilli();
    this.toMs = plan.to() == null ? Long.MAX_VALUE : plan.to().toEpochMilli();
    this.uploadIds = Set.copyOf(uploadIds);
    plan.ranges().forEach(r -> seen.put(r.partition(), new Seen()));
  }

  public ReplayPlan plan() {
    return plan;
  }

  /** Start of the window in epoch milliseconds: outputs of earlier records are dropped. */
  public long fromMs() {
    return fromMs;
  }

  /**
   * The decision for an input record. Count it with {@link #count} once it has been handled, so
   * that a partition never looks finished while its last record is still being processed.
   *
   * @param key the record key (the upload id), or null
   */
  public synchronized Decision decide(
      String topic, int partition, long offset, long timestamp, String key) {
    ReplayPlan.Range range = plan.range(new TopicPartition(topic, partition));
    if (range == null) {
      return Decision.PROCESS; // not an input topic of the window (e.g. a table): untouched
    }
    return classify(topic, range, offset, timestamp, key);
  }

  /** Counts a record after it was handled as {@code decision}. */
  public synchronized void count(String topic, int partition, long offset, Decision decision) {
    TopicPartition tp = new TopicPartition(topic, partition);
    ReplayPlan.Range range = plan.range(tp);
    if (range == null) {
      return;
    }
    Seen s = seen.get(tp);
    if (offset <= s.highest) {
      return; // processed again after a rebalance or an aborted transaction: counted already
    }
    s.highest = offset;
    if (offset >= range.start() && offset < range.stop()) {
      s.read++;
      if (decision == Decision.PROCESS) {
        s.processed++;
      } else {
        s.skipped++;
      }
    } else if (decision == Decision.CONTEXT) {
      s.context++;
    }
  }

  private Decision classify(
      String topic, ReplayPlan.Range range, long offset, long timestamp, String key) {
    if (offset >= range.stop() || offset < range.contextStart()) {
      return Decision.SKIP;
    }
    if (!uploadIds.isEmpty() && (key == null || !uploadIds.contains(key))) {
      return Decision.SKIP;
    }
    if (timestamp >= toMs) {
      return Decision.SKIP;
    }
    if (timestamp < fromMs || offset < range.start()) {
      return topic.equals(Topics.IMAGE_UPLOADS) ? Decision.CONTEXT : Decision.SKIP;
    }
    return Decision.PROCESS;
  }

  /**
   * Whether every input partition has been read up to its stop offset: its last window offset was
   * seen, or the replay's committed offset reached the stop (which also covers a window ending in
   * transaction markers, offsets no record is delivered for).
   *
   * @param committed the replay group's committed offsets (may be partial)
   */
  public synchronized boolean inputsDone(Map<TopicPartition, Long> committed) {
    for (ReplayPlan.Range r : plan.ranges()) {
      if (r.contextStart() == r.stop()) {
        continue;
      }
      long c = committed.getOrDefault(r.partition(), -1L);
      if (seen.get(r.partition()).highest < r.stop() - 1 && c < r.stop()) {
        return false;
      }
    }
    return true;
  }

  /** Records that {@link ReplayProcessorWrapper} wrapped the processor {@code name}. */
  synchronized void wrapped(String name) {
    wrapped.add(name);
  }

  /** Processors wrapped for this window, sorted. */
  public synchronized Set<String> wrappedProcessors() {
    return Set.copyOf(wrapped);
  }

  /** Progress so far, per topic (in {@link ReplayPlan#INPUT_TOPICS} order). */
  public synchronized Map<String, TopicCounts> counts() {
    Map<String, TopicCounts> out = new LinkedHashMap<>();
    plan.recordsPerTopic().forEach((t, total) -> out.put(t, new TopicCounts(t, total, 0, 0, 0, 0)));
    seen.forEach(
        (tp, s) ->
            out.merge(
                tp.topic(),
                new TopicCounts(tp.topic(), 0, s.read, s.processed, s.skipped, s.context),
                TopicCounts::plus));
    return out;
  }

  /**
   * Counts of one input topic.
   *
   * @param topic the topic
   * @param total offsets in the window (the plan's count)
   * @param read window records read so far
   * @param processed of those, processed
   * @param skipped of those, skipped (stamped outside the window, or other uploads)
   * @param context uploads read before the window, for context
   */
  public record TopicCounts(
      String topic, long total, long read, long processed, long skipped, long context) {
    TopicCounts plus(TopicCounts o) {
      return new TopicCounts(
          topic,
          total + o.total,
          read + o.read,
          processed + o.processed,
          skipped + o.skipped,
          context + o.context);
    }
  }
}
