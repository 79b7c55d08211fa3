package io.shoplens.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.events.QuestionAsked;
import io.shoplens.registry.CachedSchemaRegistryClient;
import io.shoplens.registry.CompatibilityLevel;
import io.shoplens.registry.IncompatibleSchemaException;
import io.shoplens.registry.SchemaNotFoundException;
import io.shoplens.registry.SchemaRegistryClient;
import io.shoplens.registry.SubjectNotFoundException;
import io.shoplens.schemas.SampleEvents;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Our client and serde against Confluent's real Schema Registry on a real Kafka broker.
 *
 * <p>Needs Docker: where there is none, JUnit reports the class as skipped. Images: see {@link
 * ConfluentContainers}.
 */
@Testcontainers(disabledWithoutDocker = true)
class SchemaRegistryContainersTest {
  private static final Network NETWORK = Network.newNetwork();

  @Container private static final KafkaContainer KAFKA = ConfluentContainers.kafka(NETWORK);

  @Container
  private static final GenericContainer<?> REGISTRY =
      ConfluentContainers.schemaRegistry(NETWORK, KAFKA);

  private static String registryUrl() {
    return ConfluentContainers.url(REGISTRY);
  }

  @Test
  void shouldRegisterLookUpAndEnforceCompatibilityOnTheRealRegistry() throws Exception {
    // Given
    String subject = "orders-" + UUID.randomUUID() + "-value";
    Schema v1 = SchemaBuilder.record("Order").fields().requiredString("id").endRecord();
    Schema v2 =
        SchemaBuilder.record("Order")
            .fields()
            .requiredString("id")
            .optionalLong("amount")
            .endRecord();
    Schema breaking =
        SchemaBuilder.record("Order")
            .fields()
            .requiredString("id")
            .requiredLong("cents")
            .endRecord();
    SchemaRegistryClient client = new CachedSchemaRegistryClient(registryUrl(), 100);

    // When
    int id1 = client.register(subject, v1);
    int id2 = client.register(subject, v2);

    // Then
    assertThat(client.getId(subject, v1)).isEqualTo(id1);
    assertThat(client.getSchemaById(id2)).isEqualTo(v2);
    assertThat(client.getLatestSchemaMetadata(subject).version()).isEqualTo(2);
    assertThat(client.getAllVersions(subject)).containsExactly(1, 2);
    assertThat(client.getAllSubjects()).contains(subject);
    assertThat(client.getCompatibility(subject)).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(client.testCompatibility(subject, breaking)).isFalse();
    assertThatThrownBy(() -> client.register(subject, breaking))
        .isInstanceOf(IncompatibleSchemaException.class);
    assertThat(client.updateCompatibility(subject, CompatibilityLevel.NONE))
        .isEqualTo(CompatibilityLevel.NONE);
    assertThat(client.register(subject, breaking)).isPositive();
    assertThatThrownBy(() -> client.getSchemaById(999_999))
        .isInstanceOf(SchemaNotFoundException.class);
    assertThatThrownBy(() -> client.getLatestSchemaMetadata("no-such-" + UUID.randomUUID()))
        .isInstanceOf(SubjectNotFoundException.class);
  }

  @Test
  void shouldCarryEventsThroughKafkaWithTheRealRegistry() {
    // Given
    String topic = "shoplens.questions.it-" + UUID.randomUUID();
    QuestionAsked full = SampleEvents.questionAskedFull();
    QuestionAsked minimal = SampleEvents.questionAskedMinimal();
    Map<String, Object> serde =
        Map.of(KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG, registryUrl());

    // When
    try (SpecificAvroSerde<QuestionAsked> values = new SpecificAvroSerde<>(QuestionAsked.class)) {
      values.configure(serde, false);
      try (KafkaProducer<String, QuestionAsked> producer =
          new KafkaProducer<>(
              Map.of(
                  ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  KAFKA.getBootstrapServers(),
                  ProducerConfig.ACKS_CONFIG,
                  "all"),
              new StringSerializer(),
              values.serializer())) {
        producer.send(new ProducerRecord<>(topic, full.getUploadId(), full));
        producer.send(new ProducerRecord<>(topic, minimal.getUploadId(), minimal));
        producer.send(new ProducerRecord<>(topic, full.getUploadId(), null));
        producer.flush();
      }

      List<ConsumerRecord<String, QuestionAsked>> received = new ArrayList<>();
      try (KafkaConsumer<String, QuestionAsked> consumer =
          new KafkaConsumer<>(
              Map.of(
                  ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                  KAFKA.getBootstrapServers(),
                  ConsumerConfig.GROUP_ID_CONFIG,
                  "it-" + UUID.randomUUID(),
                  ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                  "earliest"),
              new StringDeserializer(),
              values.deserializer())) {
        consumer.subscribe(List.of(topic));
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (received.size() < 3 && Instant.now().isBefore(deadline)) {
          consumer.poll(Duration.ofMillis(500)).forEach(received::add);
        }
      }

      // Then
      assertThat(received).hasSize(3);
      assertThat(received.get(0).value()).isEqualTo(full);
      assertThat(received.get(1).value()).isEqualTo(minimal);
      assertThat(received.get(2).value()).isNull();
    }
  }
}
