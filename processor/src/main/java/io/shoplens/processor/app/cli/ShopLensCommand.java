package io.shoplens.processor.app.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The top-level {@code shoplens} command: only subcommands do something. */
@Command(
    name = "shoplens",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "ShopLens answers questions about shoppers' images on Kafka, with BLIP-2 on ONNX Runtime.",
      "",
      "Start with 'shoplens demo': the whole flow on this machine, nothing else needed."
    },
    subcommands = {
      RunCommand.class,
      DemoUnavailableCommand.class,
      ProduceCommand.class,
      GatewayCommand.class,
      TopicsCommand.class,
      ModelCommand.class,
      ReplayCommand.class,
      DatasetCommand.class,
      EvaluateCommand.class,
      picocli.CommandLine.HelpCommand.class
    },
    footer = {"", "Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure."})
public final class ShopLensCommand implements Runnable {
  private final Map<String, String> env;

  @Spec CommandSpec spec;

  ShopLensCommand(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** The environment variables settings are read from. */
  Map<String, String> env() {
    return env;
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command (try shoplens demo)");
  }
}
