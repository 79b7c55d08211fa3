package io.shoplens.processor.app.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level {@code shoplens} command: only subcommands do something. */
@Command(
    name = "shoplens",
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
      CommandLine.HelpCommand.class
    },
    footer = {"", "Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure."})
public final class ShopLensCommand extends CommandGroup {
  private final Map<String, String> env;

  ShopLensCommand(Map<String, String> env) {
    super("missing command (try shoplens demo)");
    this.env = Map.copyOf(env);
  }

  /** The environment variables settings are read from. */
  Map<String, String> env() {
    return env;
  }
}
