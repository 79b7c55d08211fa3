package io.shoplens.processor.app;

import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.app.config.ConfigSources;
import io.shoplens.processor.app.config.OperationsSettings;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code shoplens} command ({@code java -jar shoplens.jar ...}). Exits 0 on success, 2 for a
 * usage or configuration error, 1 for a runtime failure.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), List.of()));
  }

  /**
   * Runs one command with {@code commands} added to the built-in ones, a command of the same name
   * giving way ({@link ShopLensCli#execute(String[], Map, List)}): the demo jar's main adds {@code
   * shoplens demo} this way, since the production jar has no Kafka broker to run it on.
   *
   * @return the exit code
   */
  public static int run(String[] args, Map<String, String> env, List<Object> commands) {
    chooseLogging(args, env);
    return ShopLensCli.execute(args, env, commands);
  }

  /**
   * Logback reads {@code shoplens.log.format} and {@code shoplens.log.level} once, when the first
   * logger is created; so they are decided here, before anything logs, from the environment and the
   * config file (a malformed file is left for validation to report).
   */
  static void chooseLogging(String[] args, Map<String, String> env) {
    String format = env.get("SHOPLENS_LOG_FORMAT");
    List<String> list = Arrays.asList(args);
    int config = Math.max(list.indexOf("--config"), list.indexOf("-c"));
    if (config >= 0 && config + 1 < args.length) {
      try {
        String fromFile =
            ConfigSources.readProperties(Path.of(args[config + 1]))
                .get(OperationsSettings.LOG_FORMAT.name());
        if (env.get("SHOPLENS_LOG_FORMAT") == null && fromFile != null) {
          format = fromFile;
        }
      } catch (RuntimeException e) {
        // Reported by validation, with everything else that is wrong.
      }
    }
    if (format != null && System.getProperty(OperationsSettings.LOG_FORMAT.name()) == null) {
      System.setProperty(
          OperationsSettings.LOG_FORMAT.name(), format.trim().toLowerCase(Locale.ROOT));
    }
    // The demo prints what matters itself; the broker's and Streams' INFO lines would bury it.
    if (!list.isEmpty()
        && list.get(0).equals("demo")
        && !list.contains("--verbose")
        && System.getProperty("shoplens.log.level") == null) {
      System.setProperty("shoplens.log.level", "WARN");
      System.setProperty("shoplens.kafka.log.level", "ERROR");
    }
  }
}
