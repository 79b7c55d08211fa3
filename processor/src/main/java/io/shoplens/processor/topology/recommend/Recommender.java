package io.shoplens.processor.topology.recommend;

import io.shoplens.events.Attribute;
import io.shoplens.events.GarmentCategory;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.NoRecommendationsReason;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Turns what the model saw in an upload (the answers to the attribute prompts, and the image
 * embedding) into a {@link RecommendationsIssued}, against the instance's {@link CatalogIndex}.
 *
 * <p>Steps, all on the caller's thread and deterministic for a given catalog:
 *
 * <ol>
 *   <li>Each attribute answer is normalised through the {@link AttributeVocabulary} (name aliases,
 *       synonyms to canonical values); answers that match nothing are left out.
 *   <li>The canonical category gives the {@link GarmentCategory}; {@code tryOnEligible} is whether
 *       it is one of the configured try-on categories.
 *   <li>Every in-stock product except the uploaded one ({@code ImageUploaded.productId}) is scored
 *       {@code attributeWeight * agreement + embeddingWeight * cosine} ({@link RecommendConfig});
 *       products with neither a shared attribute nor a comparable embedding are not candidates.
 *   <li>The top K at or above {@code minScore} are issued, best first, with their reasons: each
 *       shared attribute ("same colour: blue") and the similarity ("image similarity 0.83").
 * </ol>
 *
 * <p>An empty list always comes with a reason, the first that applies: {@code CATALOG_EMPTY} (no
 * product indexed), {@code NOT_A_GARMENT} (the category maps to NOT_A_GARMENT; nothing is scored),
 * {@code ALL_OUT_OF_STOCK} (no other product in stock), else {@code NO_MATCHING_PRODUCTS}.
 */
public final class Recommender {
  private final RecommendConfig config;
  private final CatalogIndex index;

  public Recommender(RecommendConfig config, CatalogIndex index) {
    this.config = Objects.requireNonNull(config, "config");
    this.index = Objects.requireNonNull(index, "index");
  }

  /** The index searched. */
  public CatalogIndex index() {
    return index;
  }

  /**
   * The upload's attributes, normalised: canonical attribute name to canonical value, in the order
   * given; unknown answers left out.
   */
  public Map<String, String> normalize(List<Attribute> answers) {
    AttributeVocabulary vocabulary = config.vocabulary();
    Map<String, String> out = new LinkedHashMap<>();
    for (Attribute a : answers) {
      String value = vocabulary.normalize(a.getName(), a.getValue());
      if (value != null) {
        out.putIfAbsent(vocabulary.attributeName(a.getName()), value);
      }
    }
    return out;
  }

  /**
   * The recommendations for an upload.
   *
   * @param upload the upload (user, and the product it was taken from, excluded)
   * @param answers the answers to the attribute prompts, as in {@code ImageCaptioned.attributes}
   * @param embedding the upload's L2-normalised image embedding, or null
   * @param model the model that produced answers and embedding
   * @param lineage the upload record
   * @param now issue time (epoch millis)
   */
  public RecommendationsIssued recommend(
      ImageUploaded upload,
      List<Attribute> answers,
      float[] embedding,
      ModelInfo model,
      Lineage lineage,
      long now) {
    return recommend(upload, answers, embedding, model.getModelVersion(), model, lineage, now);
  }

  /**
   * The recommendations for an upload whose embedding comes from another model than its answers (a
   * retrieval model's pooled image feature): only products embedded by {@code embeddingVersion} are
   * compared with it.
   *
   * @param embeddingVersion the model version of {@code embedding}
   */
  public RecommendationsIssued recommend(
      ImageUploaded upload,
      List<Attribute> answers,
      float[] embedding,
      String embeddingVersion,
      ModelInfo model,
      Lineage lineage,
      long now) {
    Map<String, String> attributes = normalize(answers);
    GarmentCategory garment =
        config.vocabulary().garmentCategory(attributes.get(AttributeVocabulary.CATEGORY));
    RecommendationsIssued.Builder out =
        RecommendationsIssued.newBuilder()
            .setUploadId(upload.getUploadId())
            .setUserId(upload.getUserId())
            .setAttributes(
                attributes.entrySet().stream()
                    .map(
                        a ->
                            Attribute.newBuilder()
                                .setName(a.getKey())
                                .setValue(a.getValue())
                                .setScore(null)
                                .build())
                    .toList())
            .setGarmentCategory(garment)
            .setTryOnEligible(config.tryOnCategories().contains(garment))
            .setModel(model)
            .setLineage(lineage)
            .setIssuedAt(Instant.ofEpochMilli(now))
            .setProducts(List.of())
            .setEmptyReason(null);
    if (index.size() == 0) {
      return out.setEmptyReason(NoRecommendationsReason.CATALOG_EMPTY).build();
    }
    if (garment == GarmentCategory.NOT_A_GARMENT) {
      return out.setEmptyReason(NoRecommendationsReason.NOT_A_GARMENT).build();
    }
    CatalogIndex.Result result =
        index.search(
            new CatalogIndex.Query(
                upload.getProductId(),
                attributes,
                embedding,
                embeddingVersion,
                config.topK(),
                config.attributeWeight(),
                config.embeddingWeight(),
                config.minScore()));
    if (result.hits().isEmpty()) {
      NoRecommendationsReason reason =
          result.catalogSize() == 0
              ? NoRecommendationsReason.CATALOG_EMPTY
              : result.candidates() == 0 && result.outOfStock() > 0
                  ? NoRecommendationsReason.ALL_OUT_OF_STOCK
                  : NoRecommendationsReason.NO_MATCHING_PRODUCTS;
      return out.setEmptyReason(reason).build();
    }
    List<RankedProduct> products = new ArrayList<>();
    int rank = 1;
    for (CatalogIndex.Hit hit : result.hits()) {
      List<String> reasons = new ArrayList<>();
      hit.matched().forEach((name, value) -> reasons.add("same " + name + ": " + value));
      if (hit.similarity() != null) {
        reasons.add(String.format(Locale.ROOT, "image similarity %.3f", hit.similarity()));
      }
      products.add(
          RankedProduct.newBuilder()
              .setProductId(hit.productId())
              .setRank(rank++)
              .setScore(hit.score())
              .setReasons(reasons)
              .setMatchedAttributes(List.copyOf(hit.matched().keySet()))
              .setSimilarity(hit.similarity())
              .build());
    }
    return out.setProducts(products).build();
  }
}
