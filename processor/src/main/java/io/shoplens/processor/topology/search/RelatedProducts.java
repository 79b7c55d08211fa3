package io.shoplens.processor.topology.search;

import io.shoplens.events.ProductMatch;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The products shown beside an answer ({@code QuestionAnswered.relatedProducts}): the storefront
 * shows an answer next to the products the photo is about, for questions such as "Does this shirt
 * come in other colours?".
 *
 * <p>Rule, deterministic for a given catalog:
 *
 * <ol>
 *   <li>The upload's pooled retrieval image feature finds the catalog product most similar to the
 *       photo (in or out of stock): the photo's "closest product".
 *   <li>Related products are the products of that product's canonical category (all categories when
 *       it has none), in or out of stock, ranked by the same image similarity, at most {@code
 *       limit}, the closest product first.
 *   <li>Each carries its colour and stock, so that "other colours" and "can I buy it" are answered
 *       by the list; the question text does not change the list (ITC of a question such as "other
 *       colours?" says little about which products).
 * </ol>
 *
 * <p>An empty list means no catalog product has features of the model yet.
 */
public final class RelatedProducts {
  private RelatedProducts() {}

  /**
   * The related products of an upload.
   *
   * @param image the upload's pooled retrieval image feature
   * @param modelVersion its retrieval model version
   */
  public static List<ProductMatch> find(
      CatalogIndex index, float[] image, String modelVersion, int limit) {
    List<CatalogIndex.VectorHit> closest =
        index.searchVectors(
            new CatalogIndex.VectorQuery(null, image, modelVersion, null, false, 1));
    if (closest.isEmpty()) {
      return List.of();
    }
    String category = closest.get(0).category();
    List<CatalogIndex.VectorHit> hits =
        index.searchVectors(
            new CatalogIndex.VectorQuery(null, image, modelVersion, category, false, limit));
    List<ProductMatch> out = new ArrayList<>(hits.size());
    for (CatalogIndex.VectorHit hit : hits) {
      List<String> reasons = new ArrayList<>();
      if (category != null) {
        reasons.add("same category as the photo's closest product: " + category);
      }
      reasons.add(String.format(Locale.ROOT, "image similarity %.3f", hit.imageSimilarity()));
      out.add(ProductMatches.of(hit, out.size() + 1, reasons));
    }
    return out;
  }
}
