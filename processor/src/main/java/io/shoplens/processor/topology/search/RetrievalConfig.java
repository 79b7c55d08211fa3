package io.shoplens.processor.topology.search;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.inRange;
import static io.shoplens.processor.options.OptionChecks.notBlank;

import io.soabase.recordbuilder.core.RecordBuilder;

/**
 * Retrieval settings of the topology (part of {@code ShopLensTopologyConfig}): what the topology
 * does when a retrieval model is loaded. Validated on construction; {@link #defaults()} is
 * production's starting point, disabled; change single settings with {@link #builder()} or {@link
 * #toBuilder()}.
 *
 * <p>Enabled, the catalog is embedded with the retrieval model's image features (instead of the
 * generation model's pooled embedding) and recommendations compare those; every upload's pooled
 * image feature is published on {@link #uploadEmbeddingsTopic}, from which every instance keeps a
 * global store so that a search can use any upload; searches are answered (see {@link
 * SearchTopology}); and answers carry related products (see {@link RelatedProducts}).
 *
 * @param enabled whether a retrieval model is loaded
 * @param maxQueryChars longer search texts are refused (QUERY_TOO_LONG)
 * @param maxLimit a search asking for more products is refused (INVALID_LIMIT)
 * @param relatedProducts most related products beside an answer; 0 turns them off
 * @param uploadEmbeddingsTopic topic (key uploadId) of the uploads' pooled image features; Kafka
 *     Streams does not create it, so create it before starting
 * @param searchMaxInFlight searches whose text is being embedded at once per search task
 */
@RecordBuilder
public record RetrievalConfig(
    boolean enabled,
    int maxQueryChars,
    int maxLimit,
    int relatedProducts,
    String uploadEmbeddingsTopic,
    int searchMaxInFlight) {

  /** Default {@link #uploadEmbeddingsTopic}. */
  public static final String DEFAULT_UPLOAD_EMBEDDINGS_TOPIC = "shoplens.upload-embeddings.v1";

  public RetrievalConfig {
    inRange("maxQueryChars", maxQueryChars, 1, 10_000);
    inRange("maxLimit", maxLimit, 1, 1000);
    inRange("relatedProducts", relatedProducts, 0, 100);
    notBlank("uploadEmbeddingsTopic", uploadEmbeddingsTopic);
    atLeast("searchMaxInFlight", searchMaxInFlight, 1);
  }

  /**
   * Disabled, with the production defaults for when a model is loaded: queries up to 256
   * characters, at most 50 products per search, 5 related products per answer, 16 searches in
   * flight per task.
   */
  public static RetrievalConfig defaults() {
    return new RetrievalConfig(false, 256, 50, 5, DEFAULT_UPLOAD_EMBEDDINGS_TOPIC, 16);
  }

  /** A builder starting from {@link #defaults()}. */
  public static RetrievalConfigBuilder builder() {
    return RetrievalConfigBuilder.builder(defaults());
  }

  /** A builder starting from this configuration. */
  public RetrievalConfigBuilder toBuilder() {
    return RetrievalConfigBuilder.builder(this);
  }
}
