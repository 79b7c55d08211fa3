package io.shoplens.processor.app.dataset;

import io.shoplens.events.ImageReference;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * A catalog product as read from the catalog topic or from a {@code products.jsonl} file, with
 * where its image is. Built only by {@link ProductsFile}, which refuses a line without a {@code
 * productId}, and {@link CatalogTopicReader}, whose {@code Product} schema requires one; both name
 * {@code where} themselves.
 *
 * @param where where it was read, for messages (e.g. {@code partition 0 offset 12})
 * @param productId the product id
 * @param title its title
 * @param category the catalog's category path, e.g. {@code footwear/sneakers}
 * @param attributes attribute name to value, as the catalog has them
 * @param inStock whether it can be bought
 * @param stockQuantity units in stock, or null
 * @param image where its image is, or null when it has none
 */
public record CatalogProduct(
    String where,
    String productId,
    String title,
    String category,
    Map<String, String> attributes,
    boolean inStock,
    Integer stockQuantity,
    ImageSource image) {

  public CatalogProduct {
    title = title == null ? "" : title;
    category = category == null ? "" : category;
    attributes = attributes == null ? Map.of() : Map.copyOf(attributes);
  }

  /** Where a product's image bytes come from. */
  public sealed interface ImageSource {
    /** Fetched through the topology's image resolver (allow-list, size, time and digest checks). */
    record Reference(ImageReference reference) implements ImageSource {
      public Reference {
        Objects.requireNonNull(reference, "reference");
      }
    }

    /** A file next to a {@code products.jsonl}. */
    record LocalFile(Path file) implements ImageSource {
      public LocalFile {
        Objects.requireNonNull(file, "file");
      }
    }
  }
}
