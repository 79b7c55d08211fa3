package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Mixin;

/**
 * What the commands that start a long-running service ({@code run}, {@code gateway}) do alike: read
 * the run configuration ({@code --config}, {@code --set} and the environment), validate it, and
 * under {@code --dry-run} print it and exit, else log it and serve. Each command says only how its
 * settings are validated and what it serves.
 */
abstract class ServiceCommand extends CliCommand implements Callable<Integer> {
  @Mixin ConfigOptions configOptions;

  @Mixin DryRunOption dryRun;

  @Override
  public final Integer call() throws InterruptedException {
    ShopLensConfig settings = settings();
    // Logged under the command's own logger, as each command logged it before.
    if (dryRun.printOrLog(settings, out(), LoggerFactory.getLogger(getClass()))) {
      return ShopLensCli.OK;
    }
    return serve(settings);
  }

  /**
   * The validated settings this service needs.
   *
   * @throws io.shoplens.processor.app.config.ConfigProblemsException listing every problem at once
   */
  abstract ShopLensConfig settings();

  /**
   * Runs the service until it is stopped.
   *
   * @return the exit code
   */
  abstract int serve(ShopLensConfig settings) throws InterruptedException;
}
