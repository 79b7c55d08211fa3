package io.shoplens.processor.app.config;

import io.shoplens.processor.inference.EngineConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/** The operations group: health and metrics over HTTP, log format, shutdown. */
public final class OperationsSettings {
  public static final String GROUP = "Operations";

  public static final String HTTP_PORT_CONFIG = "shoplens.http.port";
  public static final int HTTP_PORT_DEFAULT = 8080;
  public static final String HTTP_PORT_DOC =
      "Port of /health/live, /health/ready and /metrics; 0 picks a free port, -1 disables HTTP.";

  public static final String HTTP_BIND_ADDRESS_CONFIG = "shoplens.http.bind.address";
  public static final String HTTP_BIND_ADDRESS_DEFAULT = "0.0.0.0";
  public static final String HTTP_BIND_ADDRESS_DOC =
      "Address /health and /metrics listen on: 0.0.0.0 (every interface, for container probes and"
          + " scrapes) or 127.0.0.1 (this machine only). They take no input and need no"
          + " credentials, but /metrics tells about the load and the topology: keep the port off"
          + " public networks.";

  public static final String LOG_FORMAT_CONFIG = "shoplens.log.format";
  public static final String LOG_FORMAT_DEFAULT = "text";
  public static final String LOG_FORMAT_DOC =
      "text (one readable line per event) or json (one JSON object per line, for log"
          + " collectors).";

  public static final String SHUTDOWN_TIMEOUT_MS_CONFIG = "shoplens.shutdown.timeout.ms";
  // It becomes the engine's close timeout too (EngineConfig.closeTimeout): one default for both.
  public static final long SHUTDOWN_TIMEOUT_MS_DEFAULT =
      EngineConfig.defaults().closeTimeout().toMillis();
  public static final String SHUTDOWN_TIMEOUT_MS_DOC =
      "How long a shutdown waits for Kafka Streams to close, and then for the engine's running"
          + " batch; an expired wait is logged.";

  private OperationsSettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            HTTP_PORT_CONFIG,
            Type.INT,
            HTTP_PORT_DEFAULT,
            Range.between(-1, 65535),
            Importance.MEDIUM,
            HTTP_PORT_DOC)
        .define(
            HTTP_BIND_ADDRESS_CONFIG,
            Type.STRING,
            HTTP_BIND_ADDRESS_DEFAULT,
            new ConfigDef.NonEmptyStringWithoutControlChars(),
            Importance.MEDIUM,
            HTTP_BIND_ADDRESS_DOC)
        .define(
            LOG_FORMAT_CONFIG,
            Type.STRING,
            LOG_FORMAT_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in("text", "json"),
            Importance.LOW,
            LOG_FORMAT_DOC)
        .define(
            SHUTDOWN_TIMEOUT_MS_CONFIG,
            Type.LONG,
            SHUTDOWN_TIMEOUT_MS_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            SHUTDOWN_TIMEOUT_MS_DOC);
  }
}
