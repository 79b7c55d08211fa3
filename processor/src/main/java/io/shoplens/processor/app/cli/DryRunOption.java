package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import java.io.PrintWriter;
import org.slf4j.Logger;
import picocli.CommandLine.Option;

/**
 * {@code --dry-run} of the commands that start a long-running service ({@code run}, {@code
 * gateway}): both validate, then either print the configuration and exit or log it and start, and
 * should keep saying it the same way.
 */
final class DryRunOption {
  @Option(
      names = "--dry-run",
      description = "Validate the configuration, print it (secrets hidden) and exit.")
  boolean dryRun;

  /**
   * Under {@code --dry-run} prints the validated configuration to {@code out}, the command's
   * output; otherwise logs it, one setting a line.
   *
   * @return true under {@code --dry-run}: the command exits without starting
   */
  boolean printOrLog(ShopLensConfig settings, PrintWriter out, Logger log) {
    if (dryRun) {
      out.println("configuration is valid:");
      settings.describe().forEach((k, v) -> out.println("  " + k + "=" + v));
      return true;
    }
    settings.describe().forEach((k, v) -> log.info("config {}={}", k, v));
    return false;
  }
}
