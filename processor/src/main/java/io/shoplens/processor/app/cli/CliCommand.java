package io.shoplens.processor.app.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every {@code shoplens} command has alike: the standard help options ({@code -h/--help},
 * {@code -V/--version}), declared here once, and its spec, for the streams the command line was
 * given. Picocli applies a superclass's {@code @Command} attributes to its subclasses, so each
 * command's own {@code @Command} only names and describes it.
 */
@Command(mixinStandardHelpOptions = true)
abstract class CliCommand {
  @Spec CommandSpec spec;

  /** Where the command prints: standard output, or the writer a test passed in. */
  PrintWriter out() {
    return spec.commandLine().getOut();
  }
}
