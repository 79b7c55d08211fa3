package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ConfigProblemsException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Builds and runs the {@code shoplens} command line. Exit codes: {@link #OK}, {@link #USAGE} (bad
 * arguments or configuration: fix the input and retry) and {@link #FAILURE} (something failed at
 * run time).
 */
public final class ShopLensCli {
  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;

  private ShopLensCli() {}

  /** Runs with the process's standard streams. */
  public static int execute(String[] args, Map<String, String> env) {
    return execute(args, env, List.of());
  }

  /**
   * Runs with the process's standard streams and {@code commands} added to the built-in ones (see
   * {@link #execute(String[], Map, PrintWriter, PrintWriter, List)}).
   */
  public static int execute(String[] args, Map<String, String> env, List<Object> commands) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    return execute(args, env, out, err, commands);
  }

  /**
   * Runs one command.
   *
   * @param env environment variables (injected so tests need not change the process's)
   * @return the exit code
   */
  public static int execute(
      String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
    return execute(args, env, out, err, List.of());
  }

  /**
   * Runs one command, with {@code commands} (picocli {@code @Command} objects) added to the
   * built-in ones; a built-in command of the same name gives way. The demo jar adds the real {@code
   * demo}, which replaces the production jar's note that the demo is not in it.
   *
   * @return the exit code
   */
  public static int execute(
      String[] args,
      Map<String, String> env,
      PrintWriter out,
      PrintWriter err,
      List<Object> commands) {
    CommandLine cli = commandLine(env, commands);
    cli.setOut(out);
    cli.setErr(err);
    int code = cli.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /** The configured command tree. */
  static CommandLine commandLine(Map<String, String> env, List<Object> commands) {
    CommandLine cli = new CommandLine(new ShopLensCommand(env));
    for (Object command : commands) {
      CommandLine added = new CommandLine(command);
      cli.getCommandSpec().removeSubcommand(added.getCommandName());
      cli.addSubcommand(added);
    }
    // Set after the commands are in place: picocli copies these settings to existing subcommands.
    cli.setExecutionExceptionHandler(ShopLensCli::onException);
    cli.setExitCodeExceptionMapper(
        e ->
            e instanceof ConfigProblemsException
                    || e instanceof UsageException
                    || e instanceof CommandLine.ParameterException
                ? USAGE
                : FAILURE);
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    return cli;
  }

  private static int onException(
      Exception e, CommandLine command, CommandLine.ParseResult parseResult) {
    PrintWriter err = command.getErr();
    if (e instanceof CommandLine.ParameterException usage) {
      err.println(usage.getMessage());
      usage.getCommandLine().usage(err);
      return USAGE;
    }
    if (e instanceof ConfigProblemsException problems) {
      err.println("shoplens " + command.getCommandName() + ": " + problemsHeader(problems));
      for (String p : problems.problems()) {
        err.println("  - " + p);
      }
      err.println("See the configuration reference in README.md.");
      return USAGE;
    }
    if (e instanceof UsageException) {
      err.println("shoplens " + command.getCommandName() + ": " + e.getMessage());
      err.println("Try 'shoplens " + command.getCommandName() + " --help'.");
      return USAGE;
    }
    LoggerFactory.getLogger(ShopLensCli.class)
        .error("shoplens {} failed", command.getCommandName(), e);
    err.println("shoplens " + command.getCommandName() + ": failed: " + describe(e));
    return FAILURE;
  }

  private static String problemsHeader(ConfigProblemsException problems) {
    int n = problems.problems().size();
    return "invalid configuration (" + n + (n == 1 ? " problem)" : " problems)");
  }

  /** The exception's message, and its causes' where they add something. */
  static String describe(Throwable e) {
    StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !out.toString().contains(c.getMessage())) {
        out.append(": ").append(c.getMessage());
      }
    }
    return out.toString();
  }

  /**
   * What {@code value} makes from the command's options; the {@link IllegalArgumentException} it
   * throws when they are out of range is a usage error with the same message (exit code 2).
   */
  static <T> T fromOptions(Supplier<T> value) {
    try {
      return value.get();
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  /**
   * Checks that {@code file}, given with {@code option}, is a file: otherwise a usage error that
   * names both (exit code 2), before the command reads or writes anything.
   */
  static void requireFile(String option, Path file) {
    if (!Files.isRegularFile(file)) {
      throw new UsageException(option + " " + file + ": no such file");
    }
  }

  /** Bad input found after parsing (exit code 2). */
  public static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }
}
