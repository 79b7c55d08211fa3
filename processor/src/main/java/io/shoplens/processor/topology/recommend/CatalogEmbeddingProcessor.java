package io.shoplens.processor.topology.recommend;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.DeadLetterHeader;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.Product;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.image.ImageDecodeException;
import io.shoplens.processor.topology.LineageHeaders;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.StoreValues;
import io.shoplens.processor.topology.Topics;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Embeds the catalog's product images, once per product version across the application (each
 * instance embeds the catalog partitions it owns), and forwards the products with their embeddings
 * for the embeddings topic, from which every instance fills its global catalog store.
 *
 * <p>The same exactly-once protocol as the topology's inference processor: a product with an image
 * is recorded in the changelogged {@value RecommendTopology#CATALOG_IN_FLIGHT_STORE} store, its
 * image is resolved and embedded off the stream thread, and a wall-clock punctuator forwards the
 * entry and deletes the job in one transaction; jobs left in the store are submitted again on
 * restore. Per product the latest record wins: an update or tombstone replaces a job still running,
 * whose late result is dropped.
 *
 * <p>An update whose image (URI and sha256) is the one already embedded by the same model version
 * reuses that embedding without fetching the image again (stock and attribute changes are frequent,
 * image changes rare). Products without an image are forwarded at once without an embedding and are
 * matched on attributes only; so are products whose image fails for good, which are also
 * dead-lettered (stage RESOLVE_IMAGE or PREPROCESS) so that the catalog team sees it.
 */
final class CatalogEmbeddingProcessor implements Processor<String, byte[], String, CatalogOutput> {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogEmbeddingProcessor.class);

  private final ShopLensTopologyConfig config;
  private final Deserializer<Product> products;
  private final InferenceEngine engine;
  private final ImageResolver resolver;

  private ProcessorContext<String, CatalogOutput> context;
  private KeyValueStore<String, CatalogJob> inFlight;
  private KeyValueStore<String, CatalogEntry> catalog;

  private final Map<String, Active> active = new HashMap<>();
  private final ArrayDeque<Active> ready = new ArrayDeque<>();
  private final Queue<Completion> completions = new ConcurrentLinkedQueue<>();
  private int running;
  private long submissions;

  private static final class Active {
    final CatalogJob job;
    final Product product;
    long submission = -1;
    boolean queued;
    long retryAt = Long.MAX_VALUE;
    int attempts;

    Active(CatalogJob job, Product product) {
      this.job = job;
      this.product = product;
      this.attempts = job.attempts();
    }
  }

  private record Completion(
      String productId, long submission, float[] embedding, Throwable error) {}

  CatalogEmbeddingProcessor(
      ShopLensTopologyConfig config,
      Topics topics,
      InferenceEngine engine,
      ImageResolver resolver) {
    this.config = config;
    this.products = topics.catalogProducts().valueSerde().deserializer();
    this.engine = engine;
    this.resolver = resolver;
  }

  @Override
  public void init(ProcessorContext<String, CatalogOutput> context) {
    this.context = context;
    inFlight = context.getStateStore(RecommendTopology.CATALOG_IN_FLIGHT_STORE);
    catalog = context.getStateStore(RecommendTopology.CATALOG_STORE);
    List<CatalogJob> recovered = StoreValues.all(inFlight);
    for (CatalogJob job : recovered) {
      // It was readable when it was stored; the registry is the same.
      admit(new Active(job, products.deserialize(job.topic(), job.value())));
    }
    if (!recovered.isEmpty()) {
      LOG.info(
          "task {}: re-submitting {} catalog images left from an earlier run",
          context.taskId(),
          recovered.size());
    }
    submitReady();
    context.schedule(
        config.punctuationInterval(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata md =
        context
            .recordMetadata()
            .orElseThrow(() -> new IllegalStateException("catalog record without metadata"));
    String productId = record.key();
    List<CatalogJob.JobHeader> headers = new ArrayList<>();
    for (Header h : record.headers()) {
      headers.add(new CatalogJob.JobHeader(h.key(), h.value()));
    }
    CatalogJob job =
        new CatalogJob(
            productId,
            md.topic(),
            md.partition(),
            md.offset(),
            record.timestamp(),
            productId == null ? null : productId.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            record.value(),
            headers,
            0);
    if (productId == null) {
      deadLetter(job, ProcessingStage.VALIDATE, "NullKey", "catalog record has no key", 1);
      return;
    }
    // Whatever was pending for this product is superseded by this record.
    inFlight.delete(productId);
    Active previous = active.remove(productId);
    if (previous != null) {
      ready.remove(previous);
    }
    if (record.value() == null) {
      forward(job, new CatalogOutput.Delete(), null);
      return;
    }
    Product product;
    try {
      product = products.deserialize(md.topic(), record.headers(), record.value());
    } catch (RuntimeException e) {
      deadLetter(job, ProcessingStage.DESERIALIZE, e, 1);
      return;
    }
    if (!productId.equals(product.getProductId())) {
      deadLetter(
          job,
          ProcessingStage.VALIDATE,
          "KeyMismatch",
          "record key " + productId + " differs from productId " + product.getProductId(),
          1);
      return;
    }
    CatalogEntry entry = entry(job, product);
    if (product.getImage() == null) {
      forward(job, new CatalogOutput.Upsert(entry), null);
      return;
    }
    CatalogEntry known = catalog.get(productId);
    String version = engine.modelVersion();
    if (known != null
        && known.embedding() != null
        && Objects.equals(known.imageKey(), entry.imageKey())
        && version.equals(known.modelVersion())) {
      forward(
          job, new CatalogOutput.Upsert(entry.withEmbedding(version, known.embedding())), version);
      return;
    }
    inFlight.put(productId, job);
    admit(new Active(job, product));
    submitReady();
  }

  private void admit(Active a) {
    active.put(a.job.productId(), a);
    a.queued = true;
    ready.add(a);
  }

  private void submitReady() {
    while (running < config.recommendations().catalogMaxInFlight() && !ready.isEmpty()) {
      Active a = ready.poll();
      a.queued = false;
      submit(a);
    }
  }

  private void submit(Active a) {
    long submission = ++submissions;
    a.submission = submission;
    a.retryAt = Long.MAX_VALUE;
    running++;
    String productId = a.job.productId();
    CompletableFuture<float[]> embedding;
    try {
      embedding =
          resolver
              .resolve(a.product.getImage())
              .thenCompose(image -> engine.embed("catalog/" + productId, image.bytes()));
    } catch (RuntimeException e) {
      embedding = CompletableFuture.failedFuture(e);
    }
    embedding.whenComplete(
        (vector, error) ->
            completions.add(new Completion(productId, submission, vector, unwrap(error))));
  }

  private void punctuate(long now) {
    Completion c;
    while ((c = completions.poll()) != null) {
      running--;
      complete(c, now);
    }
    for (Active a : active.values()) {
      if (a.retryAt <= now && !a.queued) {
        a.retryAt = Long.MAX_VALUE;
        a.queued = true;
        ready.add(a);
      }
    }
    submitReady();
  }

  private void complete(Completion c, long now) {
    Active a = active.get(c.productId());
    if (a == null || a.submission != c.submission()) {
      return; // superseded by a later record for the product
    }
    CatalogEntry entry = entry(a.job, a.product);
    if (c.error() == null) {
      String version = engine.modelVersion();
      finish(a, new CatalogOutput.Upsert(entry.withEmbedding(version, c.embedding())), version);
      return;
    }
    Throwable e = c.error();
    boolean counts = !(e instanceof RequestRejectedException);
    boolean retriable =
        !(e instanceof ImageDecodeException
            || e instanceof IllegalArgumentException
            || e instanceof UnsupportedOperationException
            || (e instanceof ImageRefusedException r && !r.retriable()));
    int attempts = counts ? a.attempts + 1 : a.attempts;
    if (retriable && attempts < config.maxAttempts()) {
      a.attempts = attempts;
      inFlight.put(a.job.productId(), a.job.withAttempts(attempts));
      a.retryAt = now + config.retryBackoff().toMillis();
      return;
    }
    ProcessingStage stage =
        e instanceof ImageRefusedException
            ? ProcessingStage.RESOLVE_IMAGE
            : e instanceof ImageDecodeException || e instanceof IllegalArgumentException
                ? ProcessingStage.PREPROCESS
                : ProcessingStage.INFERENCE;
    LOG.info(
        "catalog product {} ({}) kept without an embedding: {}",
        a.job.productId(),
        a.job.coordinates(),
        e.toString());
    deadLetter(a.job, stage, e, Math.max(1, attempts));
    finish(a, new CatalogOutput.Upsert(entry), null);
  }

  private void finish(Active a, CatalogOutput output, String modelVersion) {
    inFlight.delete(a.job.productId());
    active.remove(a.job.productId());
    forward(a.job, output, modelVersion);
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
        job.partition(),
        job.offset());
  }

  private void forward(CatalogJob job, CatalogOutput output, String modelVersion) {
    context.forward(
        new Record<>(
            job.productId(),
            output,
            job.timestamp(),
            LineageHeaders.of(
                job.topic(), job.partition(), job.offset(), modelVersion, config.replayRunId())));
  }

  private void deadLetter(CatalogJob job, ProcessingStage stage, Throwable e, int attempts) {
    deadLetter(
        job,
        stage,
        e.getClass().getName(),
        e.getMessage() == null ? e.toString() : e.getMessage(),
        attempts);
  }

  private void deadLetter(
      CatalogJob job, ProcessingStage stage, String errorClass, String message, int attempts) {
    List<DeadLetterHeader> headers = new ArrayList<>();
    for (CatalogJob.JobHeader h : job.headers()) {
      headers.add(
          new DeadLetterHeader(h.name(), h.value() == null ? null : ByteBuffer.wrap(h.value())));
    }
    DeadLetter letter =
        DeadLetter.newBuilder()
            .setSourceTopic(job.topic())
            .setSourcePartition(job.partition())
            .setSourceOffset(job.offset())
            .setSourceTimestamp(job.timestamp() < 0 ? null : Instant.ofEpochMilli(job.timestamp()))
            .setKey(job.key() == null ? null : ByteBuffer.wrap(job.key()))
            .setValue(job.value() == null ? null : ByteBuffer.wrap(job.value()))
            .setHeaders(headers)
            .setErrorClass(errorClass)
            .setErrorMessage(message)
            .setStage(stage)
            .setAttempts(attempts)
            .setFailedAt(Instant.ofEpochMilli(context.currentSystemTimeMs()))
            .build();
    forward(job, new CatalogOutput.Dead(letter), null);
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  @Override
  public void close() {
    // Running futures complete into a queue nobody reads; their jobs stay in the store.
    active.clear();
    ready.clear();
  }
}
