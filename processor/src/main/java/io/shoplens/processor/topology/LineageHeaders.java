package io.shoplens.processor.topology;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Headers on every ShopLens output (captions, answers, dead letters): the input record it came from
 * and, for model outputs, the model version. The same facts are in the value ({@code Lineage},
 * {@code ModelInfo}); the headers let consumers and tools route or filter without decoding Avro.
 * Values are UTF-8 text (numbers in decimal).
 */
public final class LineageHeaders {
  /** Topic of the input record. */
  public static final String SOURCE_TOPIC = "shoplens.source.topic";

  /** Partition of the input record. */
  public static final String SOURCE_PARTITION = "shoplens.source.partition";

  /** Offset of the input record. */
  public static final String SOURCE_OFFSET = "shoplens.source.offset";

  /** Version of the model that produced the output (absent on dead letters). */
  public static final String MODEL_VERSION = "shoplens.model.version";

  /** Replay run id, present only on outputs of a replay. */
  public static final String REPLAY_RUN_ID = "shoplens.replay.run-id";

  private LineageHeaders() {}

  /**
   * Lineage headers for an output.
   *
   * @param modelVersion null for dead letters
   * @param replayRunId null for the live run
   */
  public static Headers of(
      String topic, int partition, long offset, String modelVersion, String replayRunId) {
    Headers headers = new RecordHeaders();
    headers.add(SOURCE_TOPIC, utf8(topic));
    headers.add(SOURCE_PARTITION, utf8(Integer.toString(partition)));
    headers.add(SOURCE_OFFSET, utf8(Long.toString(offset)));
    if (modelVersion != null) {
      headers.add(MODEL_VERSION, utf8(modelVersion));
    }
    if (replayRunId != null) {
      headers.add(REPLAY_RUN_ID, utf8(replayRunId));
    }
    return headers;
  }

  /** The last value of header {@code name} as text, or null when absent. */
  public static String get(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
