package io.shoplens.processor.topology.search;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.inRange;
import static io.shoplens.processor.options.OptionChecks.notBlank;

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
  public static Builder builder() {
    return defaults().toBuilder();
  }

  /** A builder starting from this configuration. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes single settings; {@link #build()} validates them together. */
  public static final class Builder {
    private boolean enabled;
    private int maxQueryChars;
    private int maxLimit;
    private int relatedProducts;
    private String uploadEmbeddingsTopic;
    private int searchMaxInFlight;

    private Builder(RetrievalConfig c) {
      enabled = c.enabled;
      maxQueryChars = c.maxQueryChars;
      maxLimit = c.maxLimit;
      relatedProducts = c.relatedProducts;
      uploadEmbeddingsTopic = c.uploadEmbeddingsTopic;
      searchMaxInFlight = c.searchMaxInFlight;
    }

    public Builder enabled(boolean v) {
      enabled = v;
      return this;
    }

    public Builder maxQueryChars(int v) {
      maxQueryChars = v;
      return this;
    }

    public Builder maxLimit(int v) {
      maxLimit = v;
      return this;
    }

    public Builder relatedProducts(int v) {
      relatedProducts = v;
      return this;
    }

    public Builder uploadEmbeddingsTopic(String v) {
      uploadEmbeddingsTopic = v;
      return this;
    }

    public Builder searchMaxInFlight(int v) {
      searchMaxInFlight = v;
      return this;
    }

    /**
     * @throws IllegalArgumentException when a setting is out of range (the message names it)
     */
    public RetrievalConfig build() {
      return new RetrievalConfig(
          enabled,
          maxQueryChars,
          maxLimit,
          relatedProducts,
          uploadEmbeddingsTopic,
          searchMaxInFlight);
    }
  }
}
