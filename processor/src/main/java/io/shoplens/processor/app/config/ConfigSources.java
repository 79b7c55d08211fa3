package io.shoplens.processor.app.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Where settings come from, lowest precedence first: the definitions' defaults, a Java properties
 * file, environment variables ({@link EnvironmentConfig}), then explicit overrides (the command
 * line's {@code --set key=value}). Only merges strings; {@link ShopLensConfig#validate} judges
 * them.
 */
public final class ConfigSources {

  private ConfigSources() {}

  /**
   * The merged settings.
   *
   * @param file a properties file, or null for none
   * @param environment environment variables
   * @param overrides settings that win over everything
   * @return settings plus the names of ignored {@code SHOPLENS_} variables
   * @throws ConfigProblemsException if the file is missing or unreadable
   */
  public static Merged load(
      Path file, Map<String, String> environment, Map<String, String> overrides) {
    Map<String, String> settings = new LinkedHashMap<>();
    if (file != null) {
      settings.putAll(readProperties(file));
    }
    EnvironmentConfig.Result env =
        EnvironmentConfig.parse(environment, ShopLensConfig.configDef().names());
    settings.putAll(env.settings());
    settings.putAll(overrides);
    return new Merged(settings, env.ignored());
  }

  /**
   * Merged settings.
   *
   * @param settings key to value
   * @param ignoredVariables {@code SHOPLENS_} variables that name no setting
   */
  public record Merged(Map<String, String> settings, List<String> ignoredVariables) {
    /**
     * The settings for Kafka and Schema Registry clients: all but ShopLens' own {@code shoplens.*}
     * keys (security, registry credentials, client tuning), in a new map the caller may add to.
     */
    public Map<String, Object> clientSettings() {
      return ConfigSources.clientSettings(settings);
    }
  }

  /** As {@link Merged#clientSettings()}, for settings already merged. */
  public static Map<String, Object> clientSettings(Map<String, String> settings) {
    Map<String, Object> props = new LinkedHashMap<>();
    settings.forEach(
        (k, v) -> {
          if (!k.startsWith("shoplens.")) {
            props.put(k, v);
          }
        });
    return props;
  }

  /** A properties file as a map, in file order. */
  public static Map<String, String> readProperties(Path file) {
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(in);
    } catch (NoSuchFileException e) {
      throw new ConfigProblemsException(
          List.of("--config " + file + ": no such file (expected a Java properties file)"));
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigProblemsException(List.of("--config " + file + ": cannot read: " + e));
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : props.stringPropertyNames()) {
      // A trailing space is invisible in the file and breaks host names and paths.
      out.put(name.trim(), props.getProperty(name).trim());
    }
    return out;
  }
}
