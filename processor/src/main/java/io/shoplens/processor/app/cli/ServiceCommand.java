package io.shoplens.processor.app.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * What the commands that start a long-running service ({@code run}, {@code gateway}) take alike:
 * the run configuration ({@code --config}, {@code --set} and the environment) and {@code
 * --dry-run}.
 */
abstract class ServiceCommand implements Callable<Integer> {
  @ParentCommand ShopLensCommand parent;

  @Spec CommandSpec spec;

  @Mixin ConfigOptions configOptions;

  @Mixin DryRunOption dryRun;
}
