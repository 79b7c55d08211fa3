package io.shoplens.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.shoplens.demo.DemoResources;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.app.client.OutputWatcher;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import io.shoplens.processor.topology.Topics;
import io.shoplens.registry.CachedSchemaRegistryClient;
import io.shoplens.registry.SchemaRegistryClient;
import io.shoplens.serde.ConfluentContainers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * ShopLens in-process (the tiny bundled model) against the real Kafka and Confluent Schema Registry
 * images: an upload and a question in, a caption and an answer out, every schema under the subject
 * Confluent's TopicNameStrategy names, and the answer readable by {@link AvroConverter} from that
 * registry.
 *
 * <p>Needs Docker: where there is none, JUnit reports the class as skipped. Images: see {@link
 * ConfluentContainers}.
 */
@Testcontainers(disabledWithoutDocker = true)
class ShopLensContainersTest {
  private static final Network NETWORK = Network.newNetwork();

  @Container private static final KafkaContainer KAFKA = ConfluentContainers.kafka(NETWORK);

  @Container
  private static final GenericContainer<?> REGISTRY =
      ConfluentContainers.schemaRegistry(NETWORK, KAFKA);

  @TempDir Path dir;

  @Test
  void shouldCaptionAndAnswerThroughRealKafkaAndSchemaRegistry() throws Exception {
    // Given ShopLens running on the tiny model against the containers
    String registryUrl = ConfluentContainers.url(REGISTRY);
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA.getBootstrapServers()))) {
      TopicAdmin.create(admin, TopicAdmin.newTopics(1, Optional.of((short) 1)), 60_000);
    }
    Map<String, String> settings = new HashMap<>();
    settings.put("bootstrap.servers", KAFKA.getBootstrapServers());
    settings.put("schema.registry.url", registryUrl);
    settings.put("application.id", "shoplens-containers-" + UUID.randomUUID());
    settings.put(
        "shoplens.model.path", DemoResources.extractModel(dir.resolve("model")).toString());
    settings.put("shoplens.http.port", "0");
    settings.put("shoplens.state.store.type", "IN_MEMORY");
    ShopLensConfig config = ShopLensConfig.validate(settings);
    String uploadId = "containers-" + UUID.randomUUID();
    Map<String, Object> overrides =
        Map.of(
            StreamsConfig.STATE_DIR_CONFIG,
            dir.resolve("state").toString(),
            StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
            100);

    try (ShopLensApplication app = ShopLensApplication.start(config, overrides);
        OutputWatcher watcher = new OutputWatcher(config.kafkaProperties(), true)) {
      // When the storefront publishes an upload and a question about it
      Topics topics = Topics.create(config.kafkaProperties());
      byte[] photo = DemoResources.image("photo.jpg");
      try (KafkaProducer<String, ImageUploaded> uploads =
              new KafkaProducer<>(
                  Map.of("bootstrap.servers", KAFKA.getBootstrapServers()),
                  Topics.keySerde().serializer(),
                  topics.imageUploads().valueSerde().serializer());
          KafkaProducer<String, QuestionAsked> questions =
              new KafkaProducer<>(
                  Map.of("bootstrap.servers", KAFKA.getBootstrapServers()),
                  Topics.keySerde().serializer(),
                  topics.questions().valueSerde().serializer())) {
        uploads
            .send(
                new ProducerRecord<>(
                    Topics.IMAGE_UPLOADS,
                    uploadId,
                    InputEvents.inlineUpload(uploadId, "shopper-1", null, photo, "image/jpeg")))
            .get();
        questions
            .send(
                new ProducerRecord<>(
                    Topics.QUESTIONS,
                    uploadId,
                    InputEvents.question(
                        uploadId + "-q", uploadId, "shopper-1", null, "what is it?")))
            .get();
      }

      // Then a caption and an answer come out for that upload
      List<OutputWatcher.Output> seen = new ArrayList<>();
      await("caption and answer")
          .atMost(Duration.ofMinutes(2))
          .until(
              () -> {
                for (OutputWatcher.Output o : watcher.poll(Duration.ofMillis(200))) {
                  if (o.uploadId().equals(uploadId)) {
                    seen.add(o);
                  }
                }
                return seen.stream().anyMatch(o -> o instanceof OutputWatcher.Caption)
                    && seen.stream().anyMatch(o -> o instanceof OutputWatcher.Answer);
              });
      ImageCaptioned caption =
          seen.stream()
              .filter(o -> o instanceof OutputWatcher.Caption)
              .map(o -> ((OutputWatcher.Caption) o).value())
              .findFirst()
              .orElseThrow();
      QuestionAnswered answer =
          seen.stream()
              .filter(o -> o instanceof OutputWatcher.Answer)
              .map(o -> ((OutputWatcher.Answer) o).value())
              .findFirst()
              .orElseThrow();
      assertThat(caption.getCaption()).isNotBlank();
      assertThat(answer.getQuestionId()).isEqualTo(uploadId + "-q");
      assertThat(answer.getAnswer()).isNotBlank();
    }

    // And every schema sits under the subject Confluent's TopicNameStrategy names
    try (SchemaRegistryClient registry =
        new CachedSchemaRegistryClient(Map.of("schema.registry.url", registryUrl))) {
      assertThat(registry.getAllSubjects())
          .contains(
              Topics.IMAGE_UPLOADS + "-value",
              Topics.QUESTIONS + "-value",
              Topics.CAPTIONS + "-value",
              Topics.ANSWERS + "-value");
      assertThat(registry.getLatestSchemaMetadata(Topics.ANSWERS + "-value").avroSchema())
          .isEqualTo(QuestionAnswered.getClassSchema());
    }

    // And the connectors' converter reads the answer from the real registry
    AvroConverter converter = new AvroConverter();
    converter.configure(Map.of("schema.registry.url", registryUrl), false);
    try (var consumer =
        new org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]>(
            Map.of(
                "bootstrap.servers",
                KAFKA.getBootstrapServers(),
                "group.id",
                "converter-" + UUID.randomUUID(),
                "auto.offset.reset",
                "earliest"),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
      consumer.subscribe(List.of(Topics.ANSWERS));
      List<SchemaAndValue> answers = new ArrayList<>();
      await("the answer through AvroConverter")
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                consumer
                    .poll(Duration.ofMillis(200))
                    .forEach(r -> answers.add(converter.toConnectData(r.topic(), r.value())));
                return answers.stream()
                    .anyMatch(a -> uploadId.equals(((Struct) a.value()).getString("uploadId")));
              });
    } finally {
      converter.close();
    }
  }
}
