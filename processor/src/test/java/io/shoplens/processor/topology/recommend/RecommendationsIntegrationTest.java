package io.shoplens.processor.topology.recommend;

import static io.shoplens.processor.testing.KafkaTestClients.createTopics;
import static io.shoplens.processor.testing.KafkaTestClients.idempotentProducer;
import static io.shoplens.processor.testing.KafkaTestClients.read;
import static io.shoplens.processor.testing.KafkaTestClients.readCommittedConsumer;
import static io.shoplens.processor.testing.KafkaTestClients.send;
import static io.shoplens.processor.testing.KafkaTestClients.streamsProperties;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Product;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
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
    String scope = "recommend-it-" + UUID.randomUUID();
    ShopLensTopologyConfig config =
        ShopLensTopologyConfig.builder(Map.of("schema.registry.url", "mock://" + scope))
            .modelId("shoplens/tiny-blip2-opt")
            .imageTokens(10)
            .captionOptions(DecodingOptions.greedy().withMaxNewTokens(4))
            .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
            .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
            .recommendations(
                RecommendConfig.builder().enabled(true).topK(10).minScore(-1.0).build())
            .build();
    Map<String, byte[]> served = new HashMap<>();
    for (String name : IMAGES) {
      served.put("https://img.test/" + name, TinyBundle.imageBytes(name));
    }
    ImageResolver inline = ImageResolver.inlineOnly(1_000_000);
    ImageResolver resolver =
        image ->
            image instanceof ImageReference ref
                ? CompletableFuture.completedFuture(
                    new ImageResolver.ResolvedImage(served.get(ref.getUri()), "image/png"))
                : inline.resolve(image);
    EngineConfig engineConfig =
        EngineConfig.builder()
            .intraOpThreads(1)
            .interOpThreads(1)
            .maxBatchSize(8)
            .maxBatchWait(Duration.ofMillis(5))
            .build();

    try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster().start();
        BatchingInferenceEngine engine =
            BatchingInferenceEngine.start(TinyBundle.dir(), engineConfig)) {
      Map<String, String> compacted =
          Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      createTopics(
          kafka,
          3,
          List.of(
              Topics.IMAGE_UPLOADS,
              Topics.QUESTIONS,
              Topics.CAPTIONS,
              Topics.ANSWERS,
              Topics.RECOMMENDATIONS,
              Topics.DEAD_LETTERS));
      kafka.createTopics(Topics.CATALOG_PRODUCTS, 3, compacted);
      kafka.createTopics(config.recommendations().embeddingsTopic(), 2, compacted);
      Topics topics = Topics.create(config.serdeConfig());

      // Given a catalog of one product per image, one of them deleted and one out of stock
      try (KafkaProducer<byte[], byte[]> producer = idempotentProducer(kafka)) {
        for (String name : IMAGES) {
          send(producer, topics.catalogProducts(), "p-" + name, product(name, served, true));
        }
        send(producer, topics.catalogProducts(), "p-gray.png", null);
        send(
            producer,
            topics.catalogProducts(),
            "p-palette.png",
            product("palette.png", served, false));
        producer.flush();
      }

      StreamsBuilder builder = new StreamsBuilder();
      ShopLensTopology.build(builder, config, engine, resolver);
      Properties props =
          streamsProperties(
              config,
              kafka.bootstrapServers(),
              "shoplens-rec-it-" + UUID.randomUUID(),
              stateDir.toString());

      Map<String, RecommendationsIssued> issued = new HashMap<>();
      try (KafkaStreams streams = new KafkaStreams(builder.build(props), props);
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
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }

  private static long catalogSize(KafkaStreams streams) {
    try {
      ReadOnlyKeyValueStore<String, CatalogEntry> store =
          streams.store(
              StoreQueryParameters.fromNameAndType(
                  RecommendTopology.CATALOG_STORE, QueryableStoreTypes.keyValueStore()));
      return store.get("p-gray.png") != null ? -1 : store.approximateNumEntries();
    } catch (InvalidStateStoreException e) {
      return -1; // not running yet
    }
  }

  private static Product product(String name, Map<String, byte[]> served, boolean inStock) {
    byte[] bytes = served.get("https://img.test/" + name);
    return Product.newBuilder()
        .setProductId("p-" + name)
        .setTitle(name)
        .setCategory("women/tops")
        .setImage(
            new ImageReference(
                "https://img.test/" + name,
                ImageDigest.sha256Hex(bytes),
                "image/png",
                (long) bytes.length))
        .setInStock(inStock)
        .build();
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
