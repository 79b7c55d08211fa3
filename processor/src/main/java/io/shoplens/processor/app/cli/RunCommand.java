package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/** {@code shoplens run}: production mode. */
@Command(
    name = "run",
    description = {
      "Run ShopLens against a Kafka cluster and a Schema Registry until stopped (SIGTERM/Ctrl-C).",
      "",
      "Settings come from, in increasing precedence: defaults, --config FILE, environment",
      "variables (SHOPLENS_* for ShopLens settings, KAFKA_* passed to the Kafka clients), --set.",
      "Every problem in the configuration is reported at once; the command then exits 2."
    })
final class RunCommand extends ServiceCommand {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Override
  ShopLensConfig settings() {
    return configOptions.load();
  }

  @Override
  int serve(ShopLensConfig settings) throws InterruptedException {
    ShopLensApplication app = ShopLensApplication.start(settings);
    Thread hook = new Thread(app::close, "shoplens-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    Throwable failure = app.awaitTermination();
    if (failure != null) {
      LOG.error("ShopLens stopped after a failure: {}", ShopLensCli.describe(failure));
      app.close();
      return ShopLensCli.FAILURE;
    }
    return ShopLensCli.OK;
  }
}
