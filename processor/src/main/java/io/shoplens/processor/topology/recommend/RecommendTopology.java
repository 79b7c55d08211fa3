package io.shoplens.processor.topology.recommend;

import static io.shoplens.processor.topology.SealedRoutes.branch;
import static io.shoplens.processor.topology.SealedRoutes.to;

import io.shoplens.processor.topology.InferenceServices;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.TopologyWiring;
import java.util.function.Consumer;
import org.apache.kafka.streams.kstream.BranchedKStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

/**
 * The catalog half of recommendations, added to the ShopLens topology when recommendations are
 * enabled or a retrieval model is loaded (searches and related products read the same catalog).
 *
 * <pre>
 * catalog.products ─ catalog-embed (async, in-flight store) ─┬─ embeddings topic ─ global store + index
 *                                                            └─ dead-letters
 * </pre>
 *
 * <p>Why two steps: embedding is the expensive part, so it runs partitioned (each product once, by
 * whichever instance owns its catalog partition), while scoring needs the whole catalog on every
 * instance (an upload can match any product), so the embedded products go through a topic into a
 * global store that every instance reads completely. The upload half lives in the inference
 * processor (its caption job also embeds the image and calls {@link Recommender}).
 */
public final class RecommendTopology {
  /** Changelogged store of catalog products whose images are being embedded, by productId. */
  public static final String CATALOG_IN_FLIGHT_STORE = "shoplens-catalog-in-flight";

  /** Global store of embedded catalog products, by productId (source: the embeddings topic). */
  public static final String CATALOG_STORE = "shoplens-catalog";

  private RecommendTopology() {}

  /**
   * Adds the catalog embedder and the global catalog store. Pure: no I/O.
   *
   * @param services the catalog's images are embedded by its retrieval model when it has one, else
   *     by its generation engine
   * @param index the instance's index, filled by the global store's processor
   */
  public static void addCatalog(
      TopologyWiring wiring, InferenceServices services, CatalogIndex index) {
    ShopLensTopologyConfig config = wiring.config();
    Topics topics = wiring.topics();
    RecommendConfig rc = config.recommendations();
    wiring.addStore(CATALOG_IN_FLIGHT_STORE, CatalogJob.serde());
    wiring.addGlobalStore(
        CATALOG_STORE,
        rc.embeddingsTopic(),
        CatalogEntry.serde(),
        "catalog-embeddings-source",
        () -> new CatalogStoreProcessor(index));

    KStream<String, CatalogOutput> outputs =
        wiring.processBytes(
            topics.catalogProducts(),
            "catalog-products",
            () -> new CatalogEmbeddingProcessor(config, topics, services),
            "catalog-embed",
            CATALOG_IN_FLIGHT_STORE);
    BranchedKStream<String, CatalogOutput> split = outputs.split(Named.as("catalog-output-"));
    branch(
        split,
        CatalogOutput.Dead.class,
        CatalogOutput.Dead::letter,
        "catalog-dead-letters",
        to(topics.deadLetters()));
    // Upserts and deletions (tombstones) go to the embeddings topic in the order they were made.
    Consumer<KStream<String, CatalogEntry>> embeddings =
        s -> s.to(rc.embeddingsTopic(), Produced.with(Topics.keySerde(), CatalogEntry.serde()));
    branch(
        split,
        CatalogOutput.Upsert.class,
        CatalogOutput.Upsert::entry,
        "catalog-embeddings",
        embeddings);
    branch(
        split,
        CatalogOutput.Delete.class,
        delete -> (CatalogEntry) null,
        "catalog-deletions",
        embeddings);
    split.noDefaultBranch();
  }
}
