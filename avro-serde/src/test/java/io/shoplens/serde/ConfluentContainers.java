package io.shoplens.serde;

import java.time.Duration;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A real Kafka broker and Confluent Schema Registry on one Docker network, for the Testcontainers
 * tests of every module (published in this module's test-jar). Images can be overridden with {@code
 * -Dshoplens.it.kafka.image=...} and {@code -Dshoplens.it.schema-registry.image=...}.
 */
public final class ConfluentContainers {
  private static final int REGISTRY_PORT = 8081;

  private ConfluentContainers() {}

  /** A broker that the registry reaches as {@code kafka:19092} on {@code network}. */
  public static KafkaContainer kafka(Network network) {
    return new KafkaContainer(System.getProperty("shoplens.it.kafka.image", "apache/kafka:4.1.0"))
        .withNetwork(network)
        .withListener("kafka:19092");
  }

  /** A registry that stores its schemas on {@code kafka}; ready once {@code /subjects} answers. */
  public static GenericContainer<?> schemaRegistry(Network network, KafkaContainer kafka) {
    return new GenericContainer<>(
            System.getProperty(
                "shoplens.it.schema-registry.image", "confluentinc/cp-schema-registry:8.0.0"))
        .withNetwork(network)
        .dependsOn(kafka)
        .withExposedPorts(REGISTRY_PORT)
        .withEnv("SCHEMA_REGISTRY_HOST_NAME", "schema-registry")
        .withEnv("SCHEMA_REGISTRY_LISTENERS", "http://0.0.0.0:" + REGISTRY_PORT)
        .withEnv("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", "PLAINTEXT://kafka:19092")
        .waitingFor(Wait.forHttp("/subjects").forStatusCode(200))
        .withStartupTimeout(Duration.ofMinutes(2));
  }

  /** The registry's URL from the host, once started. */
  public static String url(GenericContainer<?> registry) {
    return "http://" + registry.getHost() + ":" + registry.getMappedPort(REGISTRY_PORT);
  }
}
