package io.shoplens.processor.app.replay;

import static io.shoplens.processor.app.replay.ReplayWindow.Decision.CONTEXT;
import static io.shoplens.processor.app.replay.ReplayWindow.Decision.PROCESS;
import static io.shoplens.processor.app.replay.ReplayWindow.Decision.SKIP;
import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.topology.Topics;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class ReplayWindowTest {
  static final TopicPartition UPLOADS = new TopicPartition(Topics.IMAGE_UPLOADS, 0);
  static final TopicPartition QUESTIONS = new TopicPartition(Topics.QUESTIONS, 0);
  static final Instant FROM = Instant.ofEpochMilli(10_000);
  static final Instant TO = Instant.ofEpochMilli(20_000);

  // Uploads: offsets 0-1 before the window (lookback), 2-4 in it. Questions: 5-9 in it.
  static final ReplayPlan PLAN =
      new ReplayPlan(
          FROM,
          TO,
          List.of(
              new ReplayPlan.Range(UPLOADS, 0, 2, 5), new ReplayPlan.Range(QUESTIONS, 5, 5, 10)));

  static ReplayWindow.Decision decide(
      ReplayWindow w, TopicPartition tp, long offset, long ts, String key) {
    ReplayWindow.Decision d = w.decide(tp.topic(), tp.partition(), offset, ts, key);
    w.count(tp.topic(), tp.partition(), offset, d);
    return d;
  }

  @Test
  void shouldProcessWindowKeepEarlierUploadsForContextAndSkipTheRest() {
    ReplayWindow w = new ReplayWindow(PLAN, Set.of());

    assertThat(decide(w, UPLOADS, 0, 1_000, "u0")).isEqualTo(CONTEXT);
    assertThat(decide(w, UPLOADS, 2, 10_000, "u2")).isEqualTo(PROCESS);
    // inside the offsets but stamped after --to (producers set timestamps)
    assertThat(decide(w, UPLOADS, 3, 20_000, "u3")).isEqualTo(SKIP);
    // inside the offsets but stamped before --from: an upload stays context
    assertThat(decide(w, UPLOADS, 4, 9_999, "u4")).isEqualTo(CONTEXT);
    assertThat(decide(w, UPLOADS, 5, 12_000, "u5")).as("past the stop offset").isEqualTo(SKIP);
    assertThat(decide(w, QUESTIONS, 5, 9_000, "u0")).as("an early question").isEqualTo(SKIP);
    assertThat(decide(w, QUESTIONS, 6, 19_999, "u0")).isEqualTo(PROCESS);
    assertThat(decide(w, new TopicPartition("other", 0), 0, 0, "x")).isEqualTo(PROCESS);

    ReplayWindow.TopicCounts uploads = w.counts().get(Topics.IMAGE_UPLOADS);
    assertThat(uploads)
        .isEqualTo(new ReplayWindow.TopicCounts(Topics.IMAGE_UPLOADS, 3, 3, 1, 2, 1));
    assertThat(w.counts().get(Topics.QUESTIONS))
        .isEqualTo(new ReplayWindow.TopicCounts(Topics.QUESTIONS, 5, 2, 1, 1, 0));
  }

  @Test
  void shouldSkipOtherUploadIdsWhenUploadsAreGiven() {
    ReplayWindow w = new ReplayWindow(PLAN, Set.of("u2"));

    assertThat(decide(w, UPLOADS, 1, 1_000, "u0")).isEqualTo(SKIP);
    assertThat(decide(w, UPLOADS, 2, 10_000, "u2")).isEqualTo(PROCESS);
    assertThat(decide(w, QUESTIONS, 5, 11_000, "u3")).isEqualTo(SKIP);
    assertThat(decide(w, QUESTIONS, 6, 11_000, null)).isEqualTo(SKIP);
    assertThat(decide(w, QUESTIONS, 7, 11_000, "u2")).isEqualTo(PROCESS);
  }

  @Test
  void shouldCountARecordProcessedAgainOnlyOnce() {
    ReplayWindow w = new ReplayWindow(PLAN, Set.of());
    decide(w, QUESTIONS, 5, 11_000, "u");
    decide(w, QUESTIONS, 6, 11_000, "u");
    decide(w, QUESTIONS, 5, 11_000, "u"); // after a rebalance

    assertThat(w.counts().get(Topics.QUESTIONS).read()).isEqualTo(2);
  }

  @Test
  void shouldBeDoneWhenEveryPartitionWasReadToItsStopOrCommittedPastIt() {
    ReplayWindow w = new ReplayWindow(PLAN, Set.of());
    assertThat(w.inputsDone(Map.of())).isFalse();

    decide(w, UPLOADS, 4, 11_000, "u");
    assertThat(w.inputsDone(Map.of())).as("questions not read yet").isFalse();
    decide(w, QUESTIONS, 8, 11_000, "u");
    assertThat(w.inputsDone(Map.of())).as("offset 9 still to come").isFalse();
    // offset 9 is a transaction marker: no record, but the committed offset passes it
    assertThat(w.inputsDone(Map.of(QUESTIONS, 10L))).isTrue();
  }
}
