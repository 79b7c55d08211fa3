package io.shoplens.processor.app.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * {@code shoplens demo} in the production jar. The demo runs on an in-process Kafka broker, and the
 * production jar (the Docker images) leaves Kafka's broker out, so this command says where the demo
 * is instead of failing on a missing class. The demo jar (the {@code demo} module, what {@code
 * ./shoplens} runs) replaces it with the real command.
 */
@Command(
    name = "demo",
    description = {
      "Not in this jar: the production jar has no Kafka broker to run the demo on. From a source",
      "checkout, './shoplens demo' builds and runs the demo jar (demo/target/shoplens-demo.jar)."
    })
final class DemoUnavailableCommand extends CliCommand implements Callable<Integer> {
  static final String MESSAGE =
      "not in this jar. The production jar (the Docker images, processor/target/shoplens.jar)"
          + " leaves out the in-process Kafka broker the demo runs on. From a source checkout, run"
          + " ./shoplens demo (it builds and runs demo/target/shoplens-demo.jar).";

  /** The demo's options (--timeout, --keep-running, ...): accepted so that the note is shown. */
  @Unmatched List<String> demoOptions;

  @Override
  public Integer call() {
    spec.commandLine().getErr().println("shoplens demo: " + MESSAGE);
    return ShopLensCli.USAGE;
  }
}
