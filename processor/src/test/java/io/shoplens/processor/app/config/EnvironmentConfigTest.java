package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvironmentConfigTest {

  @Test
  void shouldMapShopLensAndKafkaVariablesToDottedKeys() {
    // Given
    Map<String, String> env =
        Map.of(
            "SHOPLENS_MODEL_PATH", "/models/blip2",
            "SHOPLENS_INFERENCE_BATCH_MAX_SIZE", "16",
            "SHOPLENS_BOOTSTRAP_SERVERS", "kafka:9092",
            "SHOPLENS_SCHEMA_REGISTRY_URL", "http://registry:8081",
            "SHOPLENS_BASIC_AUTH_USER_INFO", "u:p",
            "KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
            "KAFKA_SASL_JAAS_CONFIG", "jaas",
            "KAFKA_HEAP_OPTS", "-Xmx1g",
            "PATH", "/usr/bin");

    // When
    EnvironmentConfig.Result result =
        EnvironmentConfig.parse(env, ShopLensConfig.configDef().names());

    // Then
    assertThat(result.settings())
        .containsOnly(
            Map.entry("shoplens.model.path", "/models/blip2"),
            Map.entry("shoplens.inference.batch.max.size", "16"),
            Map.entry("bootstrap.servers", "kafka:9092"),
            Map.entry("schema.registry.url", "http://registry:8081"),
            Map.entry("basic.auth.user.info", "u:p"),
            Map.entry("security.protocol", "SASL_SSL"),
            Map.entry("sasl.jaas.config", "jaas"));
    assertThat(result.ignored()).isEmpty();
  }

  @Test
  void shouldReportButIgnoreShopLensVariablesThatNameNoSetting() {
    // Given what Kubernetes defines for a service called "shoplens"
    Map<String, String> env =
        Map.of("SHOPLENS_SERVICE_HOST", "10.0.0.1", "SHOPLENS_PORT", "tcp://10.0.0.1:8080");

    EnvironmentConfig.Result result =
        EnvironmentConfig.parse(env, ShopLensConfig.configDef().names());

    assertThat(result.settings()).isEmpty();
    assertThat(result.ignored()).containsExactly("SHOPLENS_PORT", "SHOPLENS_SERVICE_HOST");
  }

  @Test
  void shouldNameTheVariableOfEverySetting() {
    assertThat(EnvironmentConfig.environmentVariableFor("shoplens.http.port"))
        .isEqualTo("SHOPLENS_HTTP_PORT");
    assertThat(EnvironmentConfig.environmentVariableFor("bootstrap.servers"))
        .isEqualTo("SHOPLENS_BOOTSTRAP_SERVERS");
    // Every documented variable maps back to its own setting.
    for (String key : ShopLensConfig.configDef().names()) {
      String variable = EnvironmentConfig.environmentVariableFor(key);
      assertThat(
              EnvironmentConfig.parse(Map.of(variable, "x"), ShopLensConfig.configDef().names())
                  .settings())
          .as(variable)
          .containsOnlyKeys(key);
    }
  }

  @Test
  void shouldLetEnvironmentOverrideFileAndCommandLineOverrideBoth(@TempDir Path dir)
      throws Exception {
    // Given
    Path file = dir.resolve("shoplens.properties");
    Files.writeString(
        file, "shoplens.http.port=9000\nshoplens.log.format=json\nshoplens.inflight.max = 32 \n");
    Map<String, String> env = Map.of("SHOPLENS_HTTP_PORT", "9100", "SHOPLENS_LOG_FORMAT", "text");

    // When
    Map<String, String> merged =
        ConfigSources.load(file, env, Map.of("shoplens.log.format", "json")).settings();

    // Then
    assertThat(merged)
        .containsEntry("shoplens.http.port", "9100")
        .containsEntry("shoplens.log.format", "json")
        .containsEntry("shoplens.inflight.max", "32");
  }
}
