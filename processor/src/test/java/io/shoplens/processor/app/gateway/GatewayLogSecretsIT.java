package io.shoplens.processor.app.gateway;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.processor.topology.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * No configured credential reaches the logs of a gateway run: {@code shoplens gateway} from the
 * production jar, as a separate process with every logger at DEBUG (the most a user turns on),
 * configured with an API key, registry basic-auth and bearer credentials and a Kafka SASL password,
 * serves uploads and questions (the key sent as X-API-Key and as a bearer token), refuses a wrong
 * key and a metrics scrape without one, and stops. Its whole output, and that of {@code --dry-run},
 * is scanned for every secret.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class GatewayLogSecretsIT {
  private static final Path JAR =
      Path.of(System.getProperty("shoplens.jar", "target/shoplens.jar"));

  @TempDir Path dir;

  @Test
  void shouldLogNoConfiguredCredentialWhileServingWithEveryLoggerAtDebug() throws Exception {
    assertThat(JAR).as("built by `package` before the integration tests").isRegularFile();
    String apiKey = "gw-key-" + UUID.randomUUID();
    String registryPassword = "registry-pass-" + UUID.randomUUID();
    String registryToken = "registry-token-" + UUID.randomUUID();
    String kafkaPassword = "kafka-pass-" + UUID.randomUUID();
    List<String> secrets = List.of(apiKey, registryPassword, registryToken, kafkaPassword);

    try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start()) {
      createTopics(
          kafka,
          1,
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.RECOMMENDATIONS,
              Topics.DEAD_LETTERS));
      // Given a gateway configured with credentials of every kind it knows
      Path config = dir.resolve("gateway.properties");
      Files.writeString(
          config,
          String.join(
              "\n",
              "bootstrap.servers=" + kafka.bootstrapServers(),
              "schema.registry.url=mock://log-secrets-" + UUID.randomUUID(),
              "basic.auth.credentials.source=USER_INFO",
              "basic.auth.user.info=shop:" + registryPassword,
              "bearer.auth.token=" + registryToken,
              // Unused on a PLAINTEXT broker, but configured, so a config dump would show it.
              "sasl.mechanism=PLAIN",
              "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required"
                  + " username=\"shop\" password=\""
                  + kafkaPassword
                  + "\";",
              "shoplens.gateway.api.key=" + apiKey,
              "shoplens.gateway.port=0",
              "shoplens.gateway.bind.address=127.0.0.1",
              "shoplens.gateway.requests.per.minute=0",
              ""));

      // When it prints its configuration, and when it runs and serves
      Path dryRunLog = dir.resolve("dry-run.log");
      Process dryRun = gateway(config, dryRunLog, "--dry-run");
      assertThat(dryRun.waitFor(120, TimeUnit.SECONDS)).as("--dry-run finished").isTrue();
      Path runLog = dir.resolve("gateway.log");
      Process run = gateway(config, runLog);
      try {
        await()
            .atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> read(runLog).contains("gateway listening on port") || !run.isAlive());
        int port = Integer.parseInt(find(read(runLog), "gateway listening on port (\\d+)"));
        GatewayClient anonymous = new GatewayClient(port);
        GatewayClient withKey = new GatewayClient(port, Map.of("X-API-Key", apiKey));
        GatewayClient bearer = new GatewayClient(port, Map.of("Authorization", "Bearer " + apiKey));
        GatewayClient nearMiss = new GatewayClient(port, Map.of("X-API-Key", apiKey + "-guess"));
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> anonymous.get("/health/ready").status() == 200);

        GatewayClient.Reply upload =
            withKey.upload(GatewayBadInputTest.image("tiny.png"), "tiny.png", "image/png");
        assertThat(upload.status()).as(upload.json().toString()).isEqualTo(201);
        String uploadId = upload.json().path("uploadId").asText();
        assertThat(
                bearer
                    .postJson("/v1/uploads/" + uploadId + "/questions", "{\"text\": \"red?\"}")
                    .status())
            .isEqualTo(202);
        assertThat(nearMiss.get("/v1/uploads/" + uploadId).status()).isEqualTo(401);
        assertThat(anonymous.get("/metrics").status()).isEqualTo(401);
        assertThat(bearer.get("/metrics").status()).isEqualTo(200);
      } finally {
        run.destroy(); // SIGTERM: the shutdown path logs too
        if (!run.waitFor(60, TimeUnit.SECONDS)) {
          run.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
      }

      // Then the logs show the run in detail, and none of the credentials
      String printed = read(dryRunLog);
      String logged = read(runLog);
      assertThat(printed).contains("shoplens.gateway.api.key=[hidden]");
      assertThat(logged).contains("gateway on 127.0.0.1:").contains(" DEBUG ");
      for (String secret : secrets) {
        assertThat(printed).as("--dry-run output").doesNotContain(secret);
        assertThat(logged)
            .as("the gateway's log (%d characters)", logged.length())
            .doesNotContain(secret);
      }
    }
  }

  private static Process gateway(Path config, Path log, String... more) throws IOException {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                javaBinary(),
                "-Dshoplens.log.level=DEBUG",
                "-Dshoplens.kafka.log.level=DEBUG",
                "-jar",
                JAR.toString(),
                "gateway",
                "--config",
                config.toString()));
    command.addAll(List.of(more));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static String javaBinary() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  private static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in:%n%s", regex, text).isTrue();
    return m.group(1);
  }
}
