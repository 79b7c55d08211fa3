package io.shoplens.processor.topology.search;

import static io.shoplens.processor.topology.SealedRoutes.branch;
import static io.shoplens.processor.topology.SealedRoutes.to;

import io.shoplens.events.UploadEmbedding;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topic;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.TopologyWiring;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import java.util.Objects;
import org.apache.kafka.streams.kstream.BranchedKStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Product search, added to the ShopLens topology when a retrieval model is loaded.
 *
 * <pre>
 * upload-embeddings ─────────────────────────── global store (every instance: any upload)
 * search-requests ─ search (async, in-flight store) ─┬─ search-results
 *                                                    └─ dead-letters
 * </pre>
 *
 * <p>How a search ranks (the catalog's products have the retrieval model's Q query vectors each;
 * see {@link CatalogIndex#searchVectors}):
 *
 * <ul>
 *   <li>Text: the query's ITC text feature asks the HNSW index (pooled product vectors, filters
 *       inside the graph search) for candidates, which are re-ranked by the exact ITC similarity:
 *       the maximum over the product's Q query vectors of their dot product with the text.
 *   <li>Upload: the upload's pooled image feature (published by its caption job on the
 *       upload-embeddings topic) is the query vector, ranked the same way (max over the product's
 *       query vectors).
 *   <li>Both: the candidates of each are pooled, each gets both exact similarities, and the score
 *       is their mean, so that neither the words nor the photo alone decide.
 * </ul>
 *
 * <p>Filters: {@code category} (a canonical category of the attribute vocabulary or a synonym) and
 * {@code inStockOnly} (default true) are applied inside the HNSW search, so a filtered search still
 * returns up to {@code limit} products when that many pass.
 */
public final class SearchTopology {
  /** Changelogged store of searches whose text is being embedded, by requestId. */
  public static final String SEARCH_IN_FLIGHT_STORE = "shoplens-search-in-flight";

  /** Global store of the uploads' pooled image features (source: the upload-embeddings topic). */
  public static final String UPLOAD_VECTORS_STORE = "shoplens-upload-vectors";

  private SearchTopology() {}

  /**
   * Adds the upload-features global store and the search processor. Pure: no I/O.
   *
   * @param index the instance's catalog index (filled by the catalog's global store)
   */
  public static void add(TopologyWiring wiring, RetrievalEngine retrieval, CatalogIndex index) {
    Objects.requireNonNull(retrieval, "retrieval");
    Objects.requireNonNull(index, "index");
    ShopLensTopologyConfig config = wiring.config();
    Topics topics = wiring.topics();
    Topic<String, UploadEmbedding> uploadEmbeddings =
        topics.uploadEmbeddings(config.retrieval().uploadEmbeddingsTopic());
    wiring.addGlobalStore(
        UPLOAD_VECTORS_STORE,
        uploadEmbeddings.name(),
        uploadEmbeddings.valueSerde(),
        "upload-embeddings-source",
        UploadVectorStoreProcessor::new);
    wiring.addStore(SEARCH_IN_FLIGHT_STORE, SearchJob.serde());

    KStream<String, SearchOutput> outputs =
        wiring.processBytes(
            topics.searchRequests(),
            "search-requests",
            () -> new SearchProcessor(config, topics, retrieval, index),
            "search",
            SEARCH_IN_FLIGHT_STORE);
    BranchedKStream<String, SearchOutput> split = outputs.split(Named.as("search-output-"));
    branch(
        split,
        SearchOutput.Results.class,
        SearchOutput.Results::event,
        "search-results",
        to(topics.searchResults()));
    branch(
        split,
        SearchOutput.Dead.class,
        SearchOutput.Dead::letter,
        "search-dead-letters",
        to(topics.deadLetters()));
    split.noDefaultBranch();
  }

  /** Keeps the global store of upload features in step with its topic. */
  private static final class UploadVectorStoreProcessor
      implements Processor<String, UploadEmbedding, Void, Void> {
    private KeyValueStore<String, UploadEmbedding> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      store = context.getStateStore(UPLOAD_VECTORS_STORE);
    }

    @Override
    public void process(Record<String, UploadEmbedding> record) {
      if (record.key() == null) {
        return; // ShopLens never writes one; nothing to key it by
      }
      if (record.value() == null) {
        store.delete(record.key());
      } else {
        store.put(record.key(), record.value());
      }
    }
  }
}
