package io.shoplens.processor.app.replay;

import java.io.PrintWriter;
import java.util.Map;

/**
 * One console line per check: records read of the window per input topic, the rate since the start
 * and the time left at that rate.
 */
final class ReplayProgress {
  private final PrintWriter out;

  ReplayProgress(PrintWriter out) {
    this.out = out;
  }

  void print(Map<String, ReplayWindow.TopicCounts> counts, long elapsedNanos, boolean done) {
    out.println(line(counts, elapsedNanos, done));
    out.flush();
  }

  static String line(
      Map<String, ReplayWindow.TopicCounts> counts, long elapsedNanos, boolean done) {
    StringBuilder line = new StringBuilder("progress:");
    long read = 0;
    long total = 0;
    for (ReplayWindow.TopicCounts c : counts.values()) {
      line.append(' ').append(c.topic()).append(' ').append(c.read()).append('/').append(c.total());
      read += c.read();
      total += c.total();
    }
    double seconds = Math.max(elapsedNanos, 1) / 1e9;
    double rate = read / seconds;
    line.append(String.format(" | %.1f records/s", rate));
    if (done) {
      line.append(", read to the end; inference drained");
    } else if (read >= total) {
      line.append(", read to the end; waiting for inference in flight");
    } else if (rate > 0) {
      line.append(String.format(", ETA %s", eta((total - read) / rate)));
    } else {
      line.append(", ETA unknown");
    }
    return line.toString();
  }

  static String eta(double seconds) {
    long s = Math.round(Math.ceil(seconds));
    if (s < 60) {
      return s + " s";
    }
    if (s < 3600) {
      return (s / 60) + " min " + (s % 60) + " s";
    }
    return (s / 3600) + " h " + (s % 3600 / 60) + " min";
  }
}
