package io.shoplens.processor.topology.recommend;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.inRange;
import static io.shoplens.processor.options.OptionChecks.notBlank;
import static io.shoplens.processor.options.OptionChecks.require;

import io.shoplens.events.GarmentCategory;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Recommendation settings of the topology (part of {@code ShopLensTopologyConfig}). Validated on
 * construction; {@link #defaults()} is production's starting point, disabled; change single
 * settings with {@link #builder()} or {@link #toBuilder()}.
 *
 * <p>Scoring (see {@link Recommender}): {@code score = attributeWeight * agreement +
 * embeddingWeight * cosine}, where {@code agreement} in [0, 1] is the share of the upload's known
 * (vocabulary-normalised) attributes that the product has with the same value, and {@code cosine}
 * in [-1, 1] the similarity of the image embeddings (0 when either has none).
 *
 * @param enabled when false the topology reads no catalog and issues no recommendations (and the
 *     catalog and embeddings topics need not exist)
 * @param topK most products per event
 * @param attributeWeight weight of attribute agreement, {@code >= 0}
 * @param embeddingWeight weight of embedding cosine similarity, {@code >= 0}; the two weights may
 *     not both be 0
 * @param minScore products scoring below are not recommended
 * @param vocabulary attribute synonyms, canonical values and garment categories
 * @param tryOnCategories garment categories the virtual try-on service can render: an upload whose
 *     category maps to one of them is {@code tryOnEligible}
 * @param embeddingsTopic compacted topic (key productId) where the catalog's embedded products are
 *     published and from which every instance's global catalog store is filled; Kafka Streams does
 *     not create it, so create it (compacted, as many partitions as you like) before starting. Use
 *     one per model version: a replay with another model must not share it with the live run
 * @param catalogMaxInFlight product images being embedded at once per catalog task, so that a
 *     catalog load does not crowd uploads out of the engine's queue
 */
@RecordBuilder
public record RecommendConfig(
    boolean enabled,
    int topK,
    double attributeWeight,
    double embeddingWeight,
    double minScore,
    AttributeVocabulary vocabulary,
    Set<GarmentCategory> tryOnCategories,
    String embeddingsTopic,
    int catalogMaxInFlight,
    VectorIndex.Options vectorIndex) {

  /** Default {@link #embeddingsTopic}. */
  public static final String DEFAULT_EMBEDDINGS_TOPIC = "shoplens.catalog-embeddings.v1";

  /** Default {@link #tryOnCategories}: what 2D virtual try-on models render today. */
  public static final Set<GarmentCategory> DEFAULT_TRY_ON_CATEGORIES =
      Set.copyOf(
          EnumSet.of(
              GarmentCategory.UPPER_BODY, GarmentCategory.LOWER_BODY, GarmentCategory.FULL_BODY));

  // Parsed once: the vocabulary is immutable, and one instance lets defaults() equal itself.
  private static final AttributeVocabulary DEFAULT_VOCABULARY = AttributeVocabulary.defaults();

  public RecommendConfig {
    // embeddingsTopic is null-checked, by name, with notBlank below.
    Objects.requireNonNull(vocabulary, "vocabulary");
    tryOnCategories = Set.copyOf(Objects.requireNonNull(tryOnCategories, "tryOnCategories"));
    Objects.requireNonNull(vectorIndex, "vectorIndex");
    inRange("topK", topK, 1, 1000);
    require(
        attributeWeight >= 0 && Double.isFinite(attributeWeight),
        "attributeWeight must be finite and >= 0, got " + attributeWeight);
    require(
        embeddingWeight >= 0 && Double.isFinite(embeddingWeight),
        "embeddingWeight must be finite and >= 0, got " + embeddingWeight);
    require(
        attributeWeight + embeddingWeight > 0,
        "attributeWeight and embeddingWeight must not both be 0");
    require(!Double.isNaN(minScore), "minScore must be a number");
    notBlank("embeddingsTopic", embeddingsTopic);
    atLeast("catalogMaxInFlight", catalogMaxInFlight, 1);
  }

  /**
   * Disabled, with the production defaults for when it is enabled: top 10, weights 0.5 / 0.5, no
   * score below 0, the built-in vocabulary, try-on for upper body, lower body and full body, 8
   * product images in flight per catalog task, {@link VectorIndex.Options#defaults()} for the
   * catalog's vector index.
   */
  public static RecommendConfig defaults() {
    return new RecommendConfig(
        false,
        10,
        0.5,
        0.5,
        0.0,
        DEFAULT_VOCABULARY,
        DEFAULT_TRY_ON_CATEGORIES,
        DEFAULT_EMBEDDINGS_TOPIC,
        8,
        VectorIndex.Options.defaults());
  }

  /** A builder starting from {@link #defaults()}. */
  public static RecommendConfigBuilder builder() {
    return RecommendConfigBuilder.builder(defaults());
  }

  /** A builder starting from this configuration. */
  public RecommendConfigBuilder toBuilder() {
    return RecommendConfigBuilder.builder(this);
  }
}
