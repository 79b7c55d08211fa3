package io.shoplens.processor.app.ops;

import org.apache.kafka.streams.KafkaStreams;

/**
 * What {@code /health/live} and {@code /health/ready} report, updated by the application's state
 * listener and its start-up.
 *
 * <ul>
 *   <li>Live: the process can still do its work: Kafka Streams is not in {@code ERROR} or {@code
 *       PENDING_ERROR} (a restart is the cure). Starting up and rebalancing are live.
 *   <li>Ready: the model is loaded and Kafka Streams is {@code RUNNING}, so records are being
 *       processed.
 * </ul>
 *
 * Thread-safe: written by stream threads, read by the HTTP server.
 */
public final class Health {
  private volatile KafkaStreams.State streamsState = KafkaStreams.State.CREATED;
  private volatile String modelVersion;

  /** A snapshot for one response. */
  public record Status(boolean live, boolean ready, String streams, String model) {
    /** A small JSON object describing the status. */
    public String json() {
      return "{\"live\":"
          + live
          + ",\"ready\":"
          + ready
          + ",\"streams\":\""
          + streams
          + "\",\"model\":"
          + (model == null ? "null" : "\"" + model.replace("\"", "'") + "\"")
          + "}";
    }
  }

  /** Records a Streams state change. */
  public void streamsState(KafkaStreams.State state) {
    streamsState = state;
  }

  /** Records that the model is loaded (null: not loaded, or released). */
  public void modelLoaded(String version) {
    modelVersion = version;
  }

  public Status status() {
    KafkaStreams.State state = streamsState;
    String model = modelVersion;
    boolean live = state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR;
    boolean ready = live && model != null && state == KafkaStreams.State.RUNNING;
    return new Status(live, ready, state.name(), model);
  }
}
