package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.EngineConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** The operations group: health and metrics over HTTP, log format, shutdown. */
public final class OperationsSettings {
  static final SettingGroup SETTINGS = new SettingGroup("Operations");

  public static final Setting HTTP_PORT =
      SETTINGS
          .define("shoplens.http.port", 8080, Range.between(-1, 65535))
          .importance(Importance.MEDIUM)
          .doc(
              "Port of /health/live, /health/ready and /metrics; 0 picks a free port, -1 disables HTTP.");

  public static final Setting HTTP_BIND_ADDRESS =
      SETTINGS
          .define(
              "shoplens.http.bind.address",
              "0.0.0.0",
              new ConfigDef.NonEmptyStringWithoutControlChars())
          .importance(Importance.MEDIUM)
          .doc(
              "Address /health and /metrics listen on: 0.0.0.0 (every interface, for container probes and"
                  + " scrapes) or 127.0.0.1 (this machine only). They take no input and need no"
                  + " credentials, but /metrics tells about the load and the topology: keep the port off"
                  + " public networks.");

  public static final Setting LOG_FORMAT =
      SETTINGS
          .define(
              "shoplens.log.format",
              "text",
              ConfigDef.CaseInsensitiveValidString.in("text", "json"))
          .doc(
              "text (one readable line per event) or json (one JSON object per line, for log"
                  + " collectors).");

  // It becomes the engine's close timeout too (EngineConfig.closeTimeout): one default for both.
  public static final Setting SHUTDOWN_TIMEOUT_MS =
      SETTINGS
          .define(
              "shoplens.shutdown.timeout.ms",
              EngineConfig.defaults().closeTimeout(),
              Range.atLeast(0))
          .doc(
              "How long a shutdown waits for Kafka Streams to close, and then for the engine's running"
                  + " batch; an expired wait is logged.");

  private OperationsSettings() {}
}
