package io.shoplens.processor.app.cli;

import picocli.CommandLine.ParameterException;

/**
 * A command that only groups subcommands ({@code shoplens}, {@code topics}, {@code model}, {@code
 * dataset}): run on its own it is a usage error that says what to try instead.
 */
abstract class CommandGroup extends CliCommand implements Runnable {
  private final String missing;

  /**
   * @param missing the usage error, naming a command to try
   */
  CommandGroup(String missing) {
    this.missing = missing;
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), missing);
  }
}
