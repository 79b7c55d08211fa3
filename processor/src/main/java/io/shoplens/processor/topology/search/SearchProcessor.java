package io.shoplens.processor.topology.search;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.ProductMatch;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.events.SearchFilters;
import io.shoplens.events.SearchMode;
import io.shoplens.events.UploadEmbedding;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import io.shoplens.processor.topology.RejectedRecordException.UploadNotFoundException;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.jobs.AsyncJobs;
import io.shoplens.processor.topology.jobs.KeyedJobProcessor;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Answers each {@code ProductSearchRequested} with one {@code ProductSearchResults} (key =
 * requestId), see {@link SearchTopology} for the search itself.
 *
 * <p>A request is checked on the stream thread first; one that cannot be searched gets its results
 * at once, empty, with the reason ({@link SearchFailureReason}): neither text nor upload
 * (EMPTY_QUERY), a text longer than {@code maxQueryChars} (QUERY_TOO_LONG), a limit outside [1,
 * {@code maxLimit}] (INVALID_LIMIT), a category the attribute vocabulary does not know
 * (UNKNOWN_FILTER_VALUE), an upload whose features this instance does not have (UNKNOWN_UPLOAD), or
 * a catalog without products embedded by the retrieval model (CATALOG_NOT_EMBEDDED). A record that
 * cannot be read, has no key, or whose key is not its requestId is dead-lettered.
 *
 * <p>An accepted search is a job of the exactly-once protocol of {@link AsyncJobs} (store {@value
 * SearchTopology#SEARCH_IN_FLIGHT_STORE}): its text is embedded by the retrieval model off the
 * stream thread, the index is searched on the completing thread, and the results are forwarded from
 * the punctuator. A search whose model call fails for good is dead-lettered and still answered,
 * with SEARCH_FAILED, so that the storefront does not wait for ever.
 */
final class SearchProcessor
    extends KeyedJobProcessor<SearchJob, SearchProcessor.Found, SearchOutput> {
  private final ShopLensTopologyConfig config;
  private final RetrievalConfig rc;
  private final Deserializer<ProductSearchRequested> requests;
  private final RetrievalEngine retrieval;
  private final CatalogIndex index;

  private KeyValueStore<String, UploadEmbedding> uploads;

  /** A finished search. */
  record Found(ProductSearchRequested request, SearchMode mode, List<ProductMatch> hits) {}

  /** A request checked and normalised: blank text and upload ids are absent. */
  private record Checked(String query, String uploadId, String category, boolean inStockOnly) {
    SearchMode mode() {
      return query != null && uploadId != null
          ? SearchMode.TEXT_AND_IMAGE
          : query != null ? SearchMode.TEXT : SearchMode.IMAGE;
    }
  }

  /** Why a request cannot be searched. */
  private record Refusal(SearchFailureReason reason, String message) {}

  SearchProcessor(
      ShopLensTopologyConfig config, Topics topics, RetrievalEngine retrieval, CatalogIndex index) {
    super(
        new Spec<>(
            "search request",
            SearchJob::new,
            SearchOutput.Dead::new,
            SearchTopology.SEARCH_IN_FLIGHT_STORE,
            config.retrieval().searchMaxInFlight()),
        config);
    this.config = config;
    this.rc = config.retrieval();
    this.requests = topics.searchRequests().valueSerde().deserializer();
    this.retrieval = retrieval;
    this.index = index;
  }

  @Override
  protected void openStores(ProcessorContext<String, SearchOutput> context) {
    uploads = context.getStateStore(SearchTopology.UPLOAD_VECTORS_STORE);
  }

  @Override
  protected void handle(SearchJob job, Record<String, byte[]> record) {
    if (record.value() == null) {
      refuse(job, ProcessingStage.VALIDATE, "NullValue", "search request has no value");
      return;
    }
    ProductSearchRequested request =
        read(requests, job, record, "requestId", ProductSearchRequested::getRequestId);
    if (request == null) {
      return;
    }
    Refusal refusal = refusal(request);
    if (refusal != null) {
      forward(job, results(job, request, SearchMode.UNKNOWN, List.of(), refusal));
      return;
    }
    jobs.accept(job);
  }

  // The search domain of the job protocol: a request in, its ranked products out.

  @Override
  public CompletableFuture<Found> start(SearchJob job) {
    ProductSearchRequested request = read(job);
    Checked c = check(request);
    String version = retrieval.modelVersion();
    float[] image = null;
    if (c.uploadId() != null) {
      UploadVector v = upload(c.uploadId());
      if (v == null || !v.modelVersion().equals(version)) {
        // Accepted, then gone (a tombstone on the upload-embeddings topic meanwhile).
        throw new UploadNotFoundException("upload " + c.uploadId() + " has no image features");
      }
      image = v.vector();
    }
    float[] imageVector = image;
    CompletableFuture<float[]> text =
        c.query() == null
            ? CompletableFuture.completedFuture(null)
            : retrieval.textFeatures("search/" + job.id(), c.query());
    return text.thenApply(
        t -> {
          List<CatalogIndex.VectorHit> hits =
              index.searchVectors(
                  new CatalogIndex.VectorQuery(
                      t, imageVector, version, c.category(), c.inStockOnly(), request.getLimit()));
          List<ProductMatch> out = new ArrayList<>(hits.size());
          for (CatalogIndex.VectorHit hit : hits) {
            out.add(ProductMatches.of(hit, out.size() + 1, reasons(hit, c)));
          }
          return new Found(request, c.mode(), out);
        });
  }

  @Override
  public void succeeded(SearchJob job, Found found, long now) {
    forward(job, results(job, found.request(), found.mode(), found.hits(), null));
  }

  @Override
  public void failed(SearchJob job, DeadLetter letter, Throwable error, long now) {
    forward(job, new SearchOutput.Dead(letter));
    ProductSearchRequested request = read(job);
    String message = error.getMessage() == null ? error.toString() : error.getMessage();
    forward(
        job,
        results(
            job,
            request,
            SearchMode.UNKNOWN,
            List.of(),
            new Refusal(SearchFailureReason.SEARCH_FAILED, message)));
  }

  /** The first reason {@code request} cannot be searched, or null. */
  private Refusal refusal(ProductSearchRequested request) {
    Checked c = check(request);
    if (c.query() == null && c.uploadId() == null) {
      return new Refusal(
          SearchFailureReason.EMPTY_QUERY,
          "the query is empty and no uploadId is given: nothing to search for");
    }
    if (c.query() != null) {
      int length = c.query().codePointCount(0, c.query().length());
      if (length > rc.maxQueryChars()) {
        return new Refusal(
            SearchFailureReason.QUERY_TOO_LONG,
            "the query has "
                + length
                + " characters, at most "
                + rc.maxQueryChars()
                + " are searched");
      }
    }
    if (request.getLimit() < 1 || request.getLimit() > rc.maxLimit()) {
      return new Refusal(
          SearchFailureReason.INVALID_LIMIT,
          "limit must be in [1, " + rc.maxLimit() + "], got " + request.getLimit());
    }
    SearchFilters filters = request.getFilters();
    if (filters != null && filters.getCategory() != null && c.category() == null) {
      return new Refusal(
          SearchFailureReason.UNKNOWN_FILTER_VALUE,
          "category '"
              + filters.getCategory()
              + "' is not a category of the attribute vocabulary (for example jacket, dress,"
              + " sneakers)");
    }
    String version = retrieval.modelVersion();
    if (c.uploadId() != null) {
      UploadVector v = upload(c.uploadId());
      if (v == null) {
        return new Refusal(
            SearchFailureReason.UNKNOWN_UPLOAD,
            "upload "
                + c.uploadId()
                + " is unknown here: it was never uploaded, or has not been captioned yet");
      }
      if (!v.modelVersion().equals(version)) {
        return new Refusal(
            SearchFailureReason.UNKNOWN_UPLOAD,
            "upload "
                + c.uploadId()
                + " has image features of model "
                + v.modelVersion()
                + ", not of "
                + version);
      }
    }
    if (index.embedded(version) == 0) {
      return new Refusal(
          SearchFailureReason.CATALOG_NOT_EMBEDDED,
          "no catalog product has image features of model " + version + " yet");
    }
    return null;
  }

  /** The upload's feature from the global store, or null when it has none. */
  private UploadVector upload(String uploadId) {
    UploadEmbedding e = uploads.get(uploadId);
    return e == null ? null : UploadVector.of(e);
  }

  private Checked check(ProductSearchRequested request) {
    String query = request.getQuery() == null ? null : request.getQuery().strip();
    String uploadId = request.getUploadId() == null ? null : request.getUploadId().strip();
    SearchFilters filters = request.getFilters();
    String category =
        filters == null || filters.getCategory() == null
            ? null
            : index.canonicalCategory(filters.getCategory());
    return new Checked(
        query == null || query.isEmpty() ? null : query,
        uploadId == null || uploadId.isEmpty() ? null : uploadId,
        category,
        filters == null || filters.getInStockOnly());
  }

  private static List<String> reasons(CatalogIndex.VectorHit hit, Checked c) {
    List<String> reasons = new ArrayList<>();
    if (hit.textSimilarity() != null) {
      reasons.add(
          String.format(
              Locale.ROOT, "text similarity %.3f to '%s'", hit.textSimilarity(), c.query()));
    }
    if (hit.imageSimilarity() != null) {
      reasons.add(
          String.format(
              Locale.ROOT,
              "image similarity %.3f to upload %s",
              hit.imageSimilarity(),
              c.uploadId()));
    }
    if (c.category() != null) {
      reasons.add("category: " + c.category());
    }
    return reasons;
  }

  private SearchOutput results(
      SearchJob job,
      ProductSearchRequested request,
      SearchMode mode,
      List<ProductMatch> products,
      Refusal refusal) {
    return new SearchOutput.Results(
        ProductSearchResults.newBuilder()
            .setRequestId(request.getRequestId())
            .setUserId(request.getUserId())
            .setQuery(request.getQuery())
            .setUploadId(request.getUploadId())
            .setMode(mode)
            .setProducts(products)
            .setFailureReason(refusal == null ? null : refusal.reason())
            .setFailureMessage(refusal == null ? null : refusal.message())
            .setModel(
                ModelInfo.newBuilder()
                    .setModelId(retrieval.modelId())
                    .setModelVersion(retrieval.modelVersion())
                    .build())
            .setLineage(
                Lineage.newBuilder()
                    .setSourceTopic(job.origin().topic())
                    .setSourcePartition(job.origin().partition())
                    .setSourceOffset(job.origin().offset())
                    .setReplayRunId(config.replayRunId())
                    .build())
            .setSearchedAt(Instant.ofEpochMilli(now()))
            .build());
  }

  private ProductSearchRequested read(SearchJob job) {
    return requests.deserialize(job.origin().topic(), job.origin().value());
  }

  private void forward(SearchJob job, SearchOutput output) {
    forward(job, output, output instanceof SearchOutput.Results ? retrieval.modelVersion() : null);
  }
}
