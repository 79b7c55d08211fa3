package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shoplens.processor.inference.TinyBundle;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Any configuration file and environment an operator may write, through the configuration parser.
 * The input is a properties file; its lines whose key starts with {@code SHOPLENS_} or {@code
 * KAFKA_} are used as environment variables instead, as a container would set them.
 *
 * <p>Outcomes allowed: {@link ConfigProblemsException} listing what is wrong, or a configuration
 * whose every typed view (the option records, the Kafka client maps) builds without throwing: a
 * configuration that validates must start. The model path is pinned to the tiny bundle, so
 * validation goes past the model check to the settings the fuzzer controls.
 */
class ShopLensConfigFuzzTest {

  @FuzzTest(maxDuration = "5m")
  void shouldReportProblemsOrYieldAConfigurationWhoseEveryViewBuilds(byte[] input) {
    Properties file = new Properties();
    try {
      file.load(new StringReader(new String(input, StandardCharsets.UTF_8)));
    } catch (IOException | IllegalArgumentException notAPropertiesFile) {
      // Properties refuses a malformed \\uXXXX escape before we see any setting.
      return;
    }
    Map<String, String> settings = new HashMap<>();
    Map<String, String> environment = new HashMap<>();
    file.stringPropertyNames()
        .forEach(
            name -> {
              if (name.startsWith(EnvironmentConfig.SHOPLENS_PREFIX)
                  || name.startsWith(EnvironmentConfig.KAFKA_PREFIX)) {
                environment.put(name, file.getProperty(name));
              } else {
                settings.put(name, file.getProperty(name));
              }
            });
    EnvironmentConfig.Result fromEnvironment =
        EnvironmentConfig.parse(environment, ShopLensConfig.configDef().names());
    assertThat(fromEnvironment.settings().keySet()).doesNotContainNull();
    settings.putAll(fromEnvironment.settings());
    settings.put("shoplens.model.path", TinyBundle.dir().toString());

    ShopLensConfig config;
    try {
      config = ShopLensConfig.validate(settings);
    } catch (ConfigProblemsException expected) {
      assertThat(expected.getMessage()).isNotBlank();
      return;
    }
    assertThat(config.topologyConfig("fuzz-model", 32)).isNotNull();
    assertThat(config.imageResolverConfig()).isNotNull();
    assertThat(config.engineConfig()).isNotNull();
    if (config.recommendationsEnabled()) {
      assertThat(config.recommendConfig()).isNotNull();
    }
    assertThat(config.producerConfigs()).isNotEmpty();
    assertThat(config.consumerConfigs()).isNotEmpty();
    assertThat(config.adminConfigs()).isNotEmpty();
    assertThat(config.streamsConfigs(Map.of())).isNotEmpty();
    assertThat(config.schemaRegistryUrls()).isNotNull();
    assertThat(config.shutdownTimeout()).isNotNull();
    assertThat(config.describe()).isNotEmpty();
    assertThat(config.toString()).isNotBlank();
  }
}
