package io.shoplens.processor.app.replay;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;

/**
 * What a replay did.
 *
 * @param runId the replay run id, in every output's lineage and {@code shoplens.replay.run-id}
 *     header
 * @param applicationId the replay's application id
 * @param modelVersion the model version every output names
 * @param plan the offsets it was to read
 * @param inputs per input topic: records read, processed, skipped, read for context
 * @param captions captions written by this run
 * @param answers answers written by this run
 * @param deadLetters dead letters written by this run
 * @param otherOutputs other outputs of this run (recommendations), by topic
 * @param unanswered questions still waiting for an upload that is not in the window or lookback
 * @param cacheHits requests answered by the result cache
 * @param cacheMisses requests the model computed
 * @param elapsed wall time from start to the final commit
 * @param completed false when the replay was stopped before the end of its window
 */
public record ReplaySummary(
    String runId,
    String applicationId,
    String modelVersion,
    ReplayPlan plan,
    Map<String, ReplayWindow.TopicCounts> inputs,
    long captions,
    long answers,
    long deadLetters,
    Map<String, Long> otherOutputs,
    long unanswered,
    long cacheHits,
    long cacheMisses,
    Duration elapsed,
    boolean completed) {

  public ReplaySummary {
    inputs = Map.copyOf(inputs);
    otherOutputs = Map.copyOf(otherOutputs);
  }

  /** Records read in the window, all input topics. */
  public long recordsRead() {
    return inputs.values().stream().mapToLong(ReplayWindow.TopicCounts::read).sum();
  }

  /** Prints the summary. */
  public void print(PrintWriter out) {
    out.printf(
        "replay %s %s in %.1f s: model %s, application id %s%n",
        runId,
        completed ? "finished" : "STOPPED before the end of its window",
        elapsed.toMillis() / 1000.0,
        modelVersion,
        applicationId);
    for (String topic : ReplayPlan.INPUT_TOPICS) {
      ReplayWindow.TopicCounts c = inputs.get(topic);
      if (c == null) {
        continue;
      }
      out.printf(
          "  %-28s read %d/%d, processed %d, skipped %d%s%n",
          topic,
          c.read(),
          c.total(),
          c.processed(),
          c.skipped(),
          c.context() > 0 ? " (+" + c.context() + " earlier uploads read for context)" : "");
    }
    out.printf(
        "  written: %d captions, %d answers, %d dead letters", captions, answers, deadLetters);
    otherOutputs.forEach((topic, n) -> out.printf(", %d on %s", n, topic));
    out.println();
    out.printf("  result cache: %d hits, %d computed%n", cacheHits, cacheMisses);
    if (unanswered > 0) {
      out.printf(
          "  not answered: %d questions whose upload is neither in the window nor in the upload"
              + " lookback (widen --from or --upload-lookback)%n",
          unanswered);
    }
    out.printf(
        "  outputs carry lineage replayRunId=%s and header shoplens.replay.run-id=%s%n",
        runId, runId);
    out.flush();
  }
}
