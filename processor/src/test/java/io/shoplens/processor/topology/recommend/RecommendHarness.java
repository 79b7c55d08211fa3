package io.shoplens.processor.topology.recommend;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Product;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.testing.DriverTopics;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.processor.topology.ShopLensTopology;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfigBuilder;
import io.shoplens.processor.topology.Topics;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The ShopLens topology with recommendations on, in a TopologyTestDriver: typed catalog and upload
 * inputs, recommendation and dead-letter outputs, and a resolver serving catalog images by URI.
 */
final class RecommendHarness implements AutoCloseable {
  static final Instant T0 = DriverTopics.T0;

  final ShopLensTopologyConfig config;
  final Topics topics;
  final TopologyTestDriver driver;
  final TestInputTopic<String, ImageUploaded> uploads;
  final TestInputTopic<String, Product> catalog;
  final TestOutputTopic<String, RecommendationsIssued> recommendations;
  final TestOutputTopic<String, ImageCaptioned> captions;
  final TestOutputTopic<String, DeadLetter> deadLetters;

  /** Catalog images by URI. */
  final Map<String, byte[]> images = new ConcurrentHashMap<>();

  final AtomicInteger resolved = new AtomicInteger();

  RecommendHarness(ShopLensTopologyConfig config, InferenceEngine engine, Path stateDir) {
    this.config = config;
    StreamsBuilder builder = new StreamsBuilder();
    ImageResolver inline = ImageResolver.inlineOnly(1_000_000);
    ImageResolver resolver =
        image -> {
          resolved.incrementAndGet();
          if (image instanceof ImageReference ref) {
            byte[] bytes = images.get(ref.getUri());
            return bytes == null
                ? CompletableFuture.failedFuture(
                    new ImageResolver.ImageRefusedException(
                        ImageResolver.ImageRefusedException.Reason.HTTP_STATUS,
                        "404 for " + ref.getUri(),
                        false))
                : CompletableFuture.completedFuture(
                    new ImageResolver.ResolvedImage(bytes, ref.getContentType()));
          }
          return inline.resolve(image);
        };
    topics = ShopLensTopology.build(builder, config, engine, resolver);
    Properties props = new Properties();
    props.putAll(ShopLensTopology.streamsConfig());
    props.putAll(config.serdeConfig());
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shoplens-recommend-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    driver = new TopologyTestDriver(builder.build(props), props, T0);
    uploads = DriverTopics.input(driver, topics.imageUploads());
    catalog = DriverTopics.input(driver, topics.catalogProducts());
    recommendations = DriverTopics.output(driver, topics.recommendations());
    captions = DriverTopics.output(driver, topics.captions());
    deadLetters = DriverTopics.output(driver, topics.deadLetters());
  }

  /** Recommendations on, topK 3, no minimum score, registry scope of its own. */
  static ShopLensTopologyConfigBuilder config() {
    return ShopLensTopologyConfig.builder(
            Map.of("schema.registry.url", "mock://rec-" + UUID.randomUUID()))
        .modelId("spec/model")
        .imageTokens(0)
        .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
        .recommendations(RecommendConfig.builder().enabled(true).topK(3).minScore(-1.0).build());
  }

  /** Publishes a product whose image (served by the resolver) is {@code spec}. */
  void product(
      String id, String category, Map<String, String> attributes, boolean inStock, String spec) {
    String uri = "https://img.test/" + id + "/" + UUID.randomUUID();
    byte[] bytes = FakeEngine.image(spec);
    images.put(uri, bytes);
    catalog.pipeInput(
        id,
        Product.newBuilder()
            .setProductId(id)
            .setTitle("title " + id)
            .setCategory(category)
            .setAttributes(attributes)
            .setImage(
                new ImageReference(
                    uri, ImageDigest.sha256Hex(bytes), "image/png", (long) bytes.length))
            .setStockQuantity(null)
            .setInStock(inStock)
            .setUpdatedAt(null)
            .build());
    tick();
  }

  void delete(String id) {
    catalog.pipeInput(id, (Product) null);
    tick();
  }

  /** Uploads an image whose model view is {@code spec}; returns its recommendations. */
  RecommendationsIssued upload(String uploadId, String productId, String spec) {
    uploads.pipeInput(
        uploadId,
        ImageUploaded.newBuilder()
            .setUploadId(uploadId)
            .setUserId("user-1")
            .setProductId(productId)
            .setImage(new InlineImage(ByteBuffer.wrap(FakeEngine.image(spec)), "image/png"))
            .setUploadedAt(T0)
            .build());
    tick();
    List<RecommendationsIssued> out = recommendations.readValuesToList();
    if (out.size() != 1) {
      throw new AssertionError("expected one RecommendationsIssued, got " + out);
    }
    return out.get(0);
  }

  KeyValueStore<String, CatalogEntry> catalogStore() {
    return driver.getKeyValueStore(RecommendTopology.CATALOG_STORE);
  }

  void tick() {
    driver.advanceWallClockTime(Duration.ofMillis(20));
  }

  @Override
  public void close() {
    driver.close();
  }
}
