package io.shoplens.processor.app.evaluate;

import io.shoplens.events.Lineage;
import io.shoplens.processor.app.evaluate.WindowEvaluation.Version;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An input of an evaluation window, an upload or a question, with the outputs each version produced
 * for it. {@link WindowReader} fills the outputs as it reads them; once read, the window evaluation
 * only reads it.
 */
final class WindowInput {
  /** Where an input record is: its topic, partition and offset. */
  record Source(String topic, int partition, long offset) {
    static Source of(Lineage l) {
      return new Source(l.getSourceTopic(), l.getSourcePartition(), l.getSourceOffset());
    }
  }

  final Source source;
  final long timestamp;
  final String uploadId;
  final String question; // null: an upload (captions)
  final Map<Version, String> outputs = new LinkedHashMap<>();

  WindowInput(Source source, long timestamp, String uploadId, String question) {
    this.source = source;
    this.timestamp = timestamp;
    this.uploadId = uploadId;
    this.question = question;
  }
}
