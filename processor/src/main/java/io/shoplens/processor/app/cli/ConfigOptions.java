package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ConfigSources;
import io.shoplens.processor.app.config.RegistrySettings;
import io.shoplens.processor.app.config.ShopLensConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The settings options of every command that reads settings ({@code run}, {@code gateway}, {@code
 * replay}, {@code evaluate}, {@code dataset build}, and the client settings of {@code produce} and
 * {@code topics create}): {@code --config FILE} and repeatable {@code --set KEY=VALUE}, merged with
 * the environment by {@link ConfigSources}. Used as a picocli {@code @Mixin}, so the commands read
 * their settings the same way; the environment is the one the {@code shoplens} command was run
 * with, so no command needs to reach its parent commands for it.
 */
final class ConfigOptions {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigOptions.class);

  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "Java properties file with the settings (see README: Configuration).")
  Path config;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "A setting that wins over the file and the environment (repeatable).")
  Map<String, String> overrides = new LinkedHashMap<>();

  /**
   * Merges defaults, the file, the environment and the overrides, warns about each {@code
   * SHOPLENS_*} variable that names no setting (a typo would otherwise be silently ignored), and
   * validates.
   *
   * @throws io.shoplens.processor.app.config.ConfigProblemsException if the file is unreadable, or
   *     listing every problem in the settings at once
   */
  ShopLensConfig load() {
    ConfigSources.Merged merged = merge();
    for (String ignored : merged.ignoredVariables()) {
      LOG.warn("environment variable {} names no ShopLens setting; ignored", ignored);
    }
    return ShopLensConfig.validate(merged.settings());
  }

  /**
   * Merges defaults, the file, the environment and the overrides without validating: for a command
   * that uses only some settings (a whole run configuration would also need a model, for one).
   *
   * @throws io.shoplens.processor.app.config.ConfigProblemsException if the file is unreadable
   */
  ConfigSources.Merged merge() {
    return ConfigSources.load(config, env(), overrides);
  }

  /**
   * The Kafka client settings of merged {@code settings} (as {@link
   * ConfigSources#clientSettings(Map)}), pointed at the brokers and the Schema Registry given on
   * the command line.
   *
   * @param bootstrap {@code --bootstrap}, or null to keep bootstrap.servers as configured
   * @param registry {@code --registry}, or null to keep schema.registry.url as configured
   */
  static Map<String, Object> clientSettings(
      Map<String, String> settings, String bootstrap, String registry) {
    Map<String, Object> props = ConfigSources.clientSettings(settings);
    if (bootstrap != null) {
      props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    }
    if (registry != null) {
      props.put(RegistrySettings.SCHEMA_REGISTRY_URL.name(), registry);
    }
    return props;
  }

  /** The environment variables of the {@code shoplens} command this command runs under. */
  private Map<String, String> env() {
    return ((ShopLensCommand) command.root().userObject()).env();
  }
}
