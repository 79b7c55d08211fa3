package io.shoplens.processor.topology.recommend;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageReference;
import io.shoplens.events.Product;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.retrieval.ImageFeatures;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import io.shoplens.processor.topology.InferenceServices;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.jobs.AsyncJobs;
import io.shoplens.processor.topology.jobs.KeyedJobProcessor;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds the catalog's product images, once per product version across the application (each
 * instance embeds the catalog partitions it owns), and forwards the products with their embeddings
 * for the embeddings topic, from which every instance fills its global catalog store.
 *
 * <p>A product with an image is a job of the exactly-once protocol of {@link AsyncJobs} (store
 * {@value RecommendTopology#CATALOG_IN_FLIGHT_STORE}, at most {@code catalogMaxInFlight} images per
 * task): its image is resolved and embedded off the stream thread and its entry forwarded from the
 * punctuator. Per product the latest record wins: an update or tombstone cancels a job still
 * running, whose late result is dropped.
 *
 * <p>An update whose image (URI and sha256) is the one already embedded by the same model version
 * reuses that embedding without fetching the image again (stock and attribute changes are frequent,
 * image changes rare). Products without an image are forwarded at once without an embedding and are
 * matched on attributes only; so are products whose image fails for good, which are also
 * dead-lettered (stage RESOLVE_IMAGE or PREPROCESS) so that the catalog team sees it.
 *
 * <p>With a retrieval model, a product's embedding is the retrieval model's image features (its Q
 * query vectors of D floats, row-major), tagged with the retrieval model's version; without one,
 * the generation engine's pooled embedding ({@link InferenceEngine#embed}).
 */
final class CatalogEmbeddingProcessor
    extends KeyedJobProcessor<CatalogJob, float[], CatalogOutput> {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogEmbeddingProcessor.class);

  private final Deserializer<Product> products;
  private final InferenceServices services; // no retrieval model: embed with the generation engine

  private KeyValueStore<String, CatalogEntry> catalog;

  CatalogEmbeddingProcessor(
      ShopLensTopologyConfig config, Topics topics, InferenceServices services) {
    super(
        new Spec<>(
            "catalog record",
            CatalogJob::new,
            CatalogOutput.Dead::new,
            RecommendTopology.CATALOG_IN_FLIGHT_STORE,
            config.recommendations().catalogMaxInFlight()),
        config);
    this.products = topics.catalogProducts().valueSerde().deserializer();
    this.services = services;
  }

  @Override
  protected void openStores(ProcessorContext<String, CatalogOutput> context) {
    catalog = context.getStateStore(RecommendTopology.CATALOG_STORE);
  }

  @Override
  protected void handle(CatalogJob job, Record<String, byte[]> record) {
    // Whatever was pending for this product is superseded by this record.
    jobs.cancel(job.id());
    if (record.value() == null) {
      forward(job, new CatalogOutput.Delete(), null);
      return;
    }
    Product product = read(products, job, record, "productId", Product::getProductId);
    if (product == null) {
      return;
    }
    CatalogEntry entry = entry(job, product);
    if (product.getImage() == null) {
      forward(job, new CatalogOutput.Upsert(entry), null);
      return;
    }
    CatalogEntry known = catalog.get(job.id());
    String version = services.embeddingVersion();
    if (known != null
        && known.embedding() != null
        && Objects.equals(known.imageKey(), entry.imageKey())
        && version.equals(known.modelVersion())) {
      forward(
          job, new CatalogOutput.Upsert(entry.withEmbedding(version, known.embedding())), version);
      return;
    }
    jobs.accept(job);
  }

  // The catalog domain of the job protocol: a product's image in, its embedding out.

  @Override
  public CompletableFuture<float[]> start(CatalogJob job) {
    // It was readable when it was accepted; the registry is the same.
    Product product = product(job);
    String requestId = "catalog/" + job.id();
    RetrievalEngine retrieval = services.retrieval();
    return resolve(product)
        .thenCompose(
            image ->
                retrieval == null
                    ? services.engine().embed(requestId, image.bytes())
                    : retrieval
                        .imageFeatures(requestId, image.bytes())
                        .thenApply(ImageFeatures::vectors));
  }

  @Override
  public void succeeded(CatalogJob job, float[] embedding, long now) {
    String version = services.embeddingVersion();
    CatalogEntry entry = entry(job, product(job)).withEmbedding(version, embedding);
    forward(job, new CatalogOutput.Upsert(entry), version);
  }

  @Override
  public void failed(CatalogJob job, DeadLetter letter, Throwable error, long now) {
    LOG.info(
        "catalog product {} ({}) kept without an embedding: {}",
        job.id(),
        job.origin().coordinates(),
        error.toString());
    refuse(job, letter);
    forward(job, new CatalogOutput.Upsert(entry(job, product(job))), null);
  }

  /** Fetches the product's image (a catalog image is always a reference). */
  private CompletableFuture<ResolvedImage> resolve(Product product) {
    return services.resolver().resolve(product.getImage());
  }

  private Product product(CatalogJob job) {
    return products.deserialize(job.origin().topic(), job.origin().value());
  }

  private static CatalogEntry entry(CatalogJob job, Product p) {
    ImageReference ref = p.getImage();
    String imageKey = ref == null ? null : ref.getUri() + "#" + ref.getSha256();
    return new CatalogEntry(
        p.getProductId(),
        p.getTitle(),
        p.getCategory(),
        p.getAttributes() == null ? Map.of() : p.getAttributes(),
        p.getInStock(),
        imageKey,
        null,
        null,
        job.origin().partition(),
        job.origin().offset());
  }
}
