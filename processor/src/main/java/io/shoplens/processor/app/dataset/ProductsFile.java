package io.shoplens.processor.app.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.events.ImageReference;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code products.jsonl}: one catalog product per line, with the fields of the Avro {@code
 * Product} (productId, title, category, attributes, inStock, stockQuantity) and its image either as
 * a path relative to the file or as an object whose {@code uri} is such a path. An object with an
 * {@code http(s)} uri, a sha256, a content type and a size is an image reference, fetched through
 * the resolver like a catalog topic's. A later line for the same product replaces the earlier one.
 */
public final class ProductsFile {
  private ProductsFile() {}

  /**
   * Reads the file; unreadable lines are skipped (counted in {@code skips}, one line each).
   *
   * @throws UncheckedIOException when the file cannot be read
   */
  public static List<CatalogProduct> read(Path file, Skips skips) {
    Map<String, CatalogProduct> products = new LinkedHashMap<>();
    Path base = file.toAbsolutePath().getParent();
    try (JsonLines lines = JsonLines.open(file)) {
      for (JsonLines.Line line = lines.next(); line != null; line = lines.next()) {
        String where = line.where();
        try {
          CatalogProduct p = parse(where, line.text(), base);
          products.remove(p.productId());
          products.put(p.productId(), p);
        } catch (IllegalArgumentException e) {
          skips.skip(where, Skips.UNREADABLE_ROW, e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return new ArrayList<>(products.values());
  }

  static CatalogProduct parse(String where, String line, Path base) {
    JsonNode node = JsonLines.parse(line);
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("expected a JSON object");
    }
    JsonNode id = node.get("productId");
    if (id == null || !id.isTextual() || id.asText().isBlank()) {
      throw new IllegalArgumentException("productId: expected a non-empty string, got " + id);
    }
    JsonNode attrs = node.path("attributes");
    if (!attrs.isMissingNode() && !attrs.isNull() && !attrs.isObject()) {
      throw new IllegalArgumentException("attributes: expected an object, got " + attrs);
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    attrs.properties().forEach(e -> attributes.put(e.getKey(), e.getValue().asText()));
    JsonNode stock = node.path("stockQuantity");
    return new CatalogProduct(
        where,
        id.asText(),
        node.path("title").asText(""),
        node.path("category").asText(""),
        attributes,
        node.path("inStock").asBoolean(true),
        stock.isInt() ? stock.asInt() : null,
        image(node.get("image"), base));
  }

  private static CatalogProduct.ImageSource image(JsonNode image, Path base) {
    if (image == null || image.isNull()) {
      return null;
    }
    if (image.isTextual()) {
      return image.asText().isBlank()
          ? null
          : new CatalogProduct.ImageSource.LocalFile(base.resolve(image.asText()));
    }
    if (!image.isObject() || !image.path("uri").isTextual()) {
      throw new IllegalArgumentException(
          "image: expected a relative path or an object with a uri, got " + image);
    }
    String uri = image.path("uri").asText();
    if (uri.startsWith("http://") || uri.startsWith("https://")) {
      if (!image.path("sha256").isTextual()
          || !image.path("contentType").isTextual()
          || !image.path("sizeBytes").canConvertToLong()) {
        throw new IllegalArgumentException(
            "image: a URL needs sha256, contentType and sizeBytes to be fetched, got " + image);
      }
      return new CatalogProduct.ImageSource.Reference(
          ImageReference.newBuilder()
              .setUri(uri)
              .setSha256(image.path("sha256").asText())
              .setContentType(image.path("contentType").asText())
              .setSizeBytes(image.path("sizeBytes").asLong())
              .build());
    }
    return new CatalogProduct.ImageSource.LocalFile(base.resolve(uri));
  }
}
