package io.shoplens.processor.topology.search;

import io.shoplens.events.ProductMatch;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import java.util.List;

/** The one translation of an index hit into the {@code ProductMatch} of the event contract. */
final class ProductMatches {
  private ProductMatches() {}

  static ProductMatch of(CatalogIndex.VectorHit hit, int rank, List<String> reasons) {
    return ProductMatch.newBuilder()
        .setProductId(hit.productId())
        .setRank(rank)
        .setScore(hit.score())
        .setTextSimilarity(hit.textSimilarity())
        .setImageSimilarity(hit.imageSimilarity())
        .setTitle(hit.title())
        .setCategory(hit.category())
        .setColour(hit.colour())
        .setInStock(hit.inStock())
        .setReasons(List.copyOf(reasons))
        .build();
  }
}
