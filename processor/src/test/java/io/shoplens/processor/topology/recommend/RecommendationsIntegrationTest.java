package io.shoplens.processor.topology.recommend;

import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Product;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.testing.TinyModelCluster;
import io.shoplens.processor.topology.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recommendations end to end on a real in-process KRaft broker, exactly-once, with the tiny BLIP-2
 * model: catalog products (one deleted, one out of stock) are embedded into the global store, and
 * every upload gets exactly one RecommendationsIssued keyed by its uploadId.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RecommendationsIntegrationTest {
  private static final List<String> IMAGES =
      List.of("photo.jpg", "wide.png", "alpha.png", "gray.png", "palette.png");

  @TempDir Path stateDir;

  @Test
  void shouldIssueOneRecommendationEventPerUploadFromTheEmbeddedCatalog() throws Exception {
    try (TinyModelCluster cluster = TinyModelCluster.start("recommend-it-", 3)) {
      EmbeddedKafkaCluster kafka = cluster.kafka();
      BatchingInferenceEngine engine = cluster.engine();
      Topics topics = cluster.topics();

      // Given a catalog of one product per image, one of them deleted and one out of stock
      try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
        for (String name : IMAGES) {
          send(producer, topics.catalogProducts(), "p-" + name, product(cluster, name, true));
        }
        send(producer, topics.catalogProducts(), "p-gray.png", null);
        send(
            producer,
            topics.catalogProducts(),
            "p-palette.png",
            product(cluster, "palette.png", false));
        producer.flush();
      }

      Map<String, RecommendationsIssued> issued = new HashMap<>();
      try (KafkaStreams streams = cluster.streams(stateDir);
          KafkaConsumer<byte[], byte[]> consumer = readCommittedConsumer(kafka, "verifier-")) {
        streams.start();
        // When the catalog has reached every instance's global store (4 products)
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(100))
            .until(() -> catalogSize(streams) == IMAGES.size() - 1);

        // And shoppers upload images
        try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
          for (String name : List.of("photo.jpg", "wide.png", "gray.png")) {
            send(producer, topics.imageUploads(), "up-" + name, upload("up-" + name, name));
          }
          producer.flush();
        }
        consumer.subscribe(List.of(Topics.RECOMMENDATIONS));
        await()
            .atMost(Duration.ofSeconds(90))
            .pollInterval(Duration.ofMillis(200))
            .until(
                () -> {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    RecommendationsIssued rec = read(topics.recommendations(), r);
                    assertThat(new String(r.key(), StandardCharsets.UTF_8))
                        .isEqualTo(rec.getUploadId());
                    assertThat(issued.put(rec.getUploadId(), rec)).as("duplicate").isNull();
                  }
                  return issued.size() == 3;
                });
        for (int i = 0; i < 3; i++) {
          assertThat(consumer.poll(Duration.ofMillis(200))).isEmpty();
        }
        streams.close(Duration.ofSeconds(30));
      }

      // Then each upload's own image ranks first, and deleted or out-of-stock products never appear
      for (String name : List.of("photo.jpg", "wide.png")) {
        RecommendationsIssued r = issued.get("up-" + name);
        assertThat(r.getProducts().get(0).getProductId()).isEqualTo("p-" + name);
        assertThat(r.getProducts().get(0).getSimilarity()).isCloseTo(1.0, within(1e-5));
        assertThat(r.getModel().getModelVersion()).isEqualTo(engine.modelVersion());
        assertThat(r.getLineage().getSourceTopic()).isEqualTo(Topics.IMAGE_UPLOADS);
      }
      for (RecommendationsIssued r : issued.values()) {
        assertThat(r.getProducts())
            .extracting(RankedProduct::getProductId)
            .containsExactlyInAnyOrder("p-photo.jpg", "p-wide.png", "p-alpha.png");
      }
    }
  }

  /** Products in the global store once the deleted one is gone from it; -1 until then. */
  private static long catalogSize(KafkaStreams streams) {
    return TinyModelCluster.catalog(streams)
        .map(store -> store.get("p-gray.png") != null ? -1 : store.approximateNumEntries())
        .orElse(-1L);
  }

  private static Product product(TinyModelCluster cluster, String name, boolean inStock) {
    return cluster.product(name, "https://img.test/" + name, inStock);
  }

  private static ImageUploaded upload(String uploadId, String image) {
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId("user-" + uploadId)
        .setProductId(null)
        .setImage(new InlineImage(ByteBuffer.wrap(TinyBundle.imageBytes(image)), "image/png"))
        .setUploadedAt(Instant.parse("2025-03-14T09:26:53.589Z"))
        .build();
  }
}
