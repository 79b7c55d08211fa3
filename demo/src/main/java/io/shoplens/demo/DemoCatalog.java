package io.shoplens.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo's products and shopper photos, all from the trained demo model's held-out split: the
 * synthetic catalog's test products, which the model never saw in training ({@code
 * scripts/train-demo-model} writes them to {@code
 * processor/src/test/resources/datasets/fashion-heldout}; the demo jar carries that folder).
 *
 * <p>The catalog is the first held-out product of every kind, in {@link #KINDS} order; the last one
 * is marked out of stock so that the demo shows it is never recommended, and any other with no
 * stock gets one unit so that the rest are all recommendable. The shopper photos are the next
 * held-out products of {@link #UPLOAD_KINDS}: products that are not in the demo's catalog, so a
 * right answer comes from the picture, not from a catalog lookup. With the retrieval model, the
 * demo also publishes every other held-out product ({@link #more}, in or out of stock as the
 * synthetic catalog says), so that a text search has several products of each kind and colour to
 * choose from.
 *
 * @param catalog what the demo publishes to the catalog topic, each product printed
 * @param uploads the photos the demo uploads, by kind in {@link #UPLOAD_KINDS} order
 * @param more the other held-out products (neither in {@code catalog} nor among {@code uploads}),
 *     in file order
 */
public record DemoCatalog(List<Item> catalog, List<Item> uploads, List<Item> more) {
  /** The synthetic catalog's garment kinds (model-export/shoplens_export/catalog.py). */
  public static final List<String> KINDS =
      List.of(
          "shirt",
          "t-shirt",
          "dress",
          "trousers",
          "skirt",
          "sneakers",
          "boots",
          "heels",
          "handbag",
          "hat");

  /** The kinds of the demo's shopper photos. */
  public static final List<String> UPLOAD_KINDS = List.of("sneakers", "dress", "handbag");

  private static final String PRODUCTS = "catalog/products.jsonl";

  /**
   * One held-out product.
   *
   * @param productId its id in the synthetic catalog
   * @param title e.g. {@code White striped sneakers}
   * @param category the catalog's category path, e.g. {@code footwear/sneakers}
   * @param attributes the catalog's annotations: category (the kind), colour, pattern, material,
   *     style and, for footwear, outdoor
   * @param image the image's file name, under {@code catalog/images/} in the jar
   * @param stock units in stock (0: out of stock)
   */
  public record Item(
      String productId,
      String title,
      String category,
      Map<String, String> attributes,
      String image,
      int stock) {
    public Item {
      attributes = Map.copyOf(attributes);
    }

    /** The catalog's kind of this product, e.g. {@code sneakers}. */
    public String kind() {
      return attributes.get("category");
    }

    /** What the trained model should say about it, e.g. {@code white striped sneakers}. */
    public String truth() {
      String pattern = attributes.getOrDefault("pattern", "solid");
      return attributes.get("colour")
          + " "
          + (pattern.equals("solid") ? "" : pattern + " ")
          + kind();
    }

    /** The image's bytes. */
    public byte[] imageBytes() {
      return DemoResources.catalogImage(image);
    }
  }

  /** Reads the held-out products from the jar and picks the catalog and the photos. */
  public static DemoCatalog load() {
    List<Item> products = read(DemoResources.catalogFile(PRODUCTS));
    Map<String, Item> firstOfKind = new LinkedHashMap<>();
    for (Item p : products) {
      firstOfKind.putIfAbsent(p.kind(), p);
    }
    List<Item> catalog = new ArrayList<>();
    for (String kind : KINDS) {
      Item item = firstOfKind.get(kind);
      if (item == null) {
        throw new IllegalStateException("the demo's held-out products have no " + kind);
      }
      boolean last = catalog.size() == KINDS.size() - 1;
      catalog.add(last ? withStock(item, 0) : item.stock() == 0 ? withStock(item, 1) : item);
    }
    Set<String> inCatalog = Set.copyOf(catalog.stream().map(Item::productId).toList());
    List<Item> uploads = new ArrayList<>();
    for (String kind : UPLOAD_KINDS) {
      uploads.add(
          products.stream()
              .filter(p -> p.kind().equals(kind) && !inCatalog.contains(p.productId()))
              .findFirst()
              .orElseThrow(
                  () -> new IllegalStateException("the demo needs a second held-out " + kind)));
    }
    Set<String> taken = new HashSet<>(inCatalog);
    uploads.forEach(u -> taken.add(u.productId()));
    List<Item> more = products.stream().filter(p -> !taken.contains(p.productId())).toList();
    return new DemoCatalog(List.copyOf(catalog), List.copyOf(uploads), more);
  }

  private static Item withStock(Item item, int stock) {
    return new Item(
        item.productId(), item.title(), item.category(), item.attributes(), item.image(), stock);
  }

  static List<Item> read(byte[] jsonLines) {
    ObjectMapper json = new ObjectMapper();
    List<Item> items = new ArrayList<>();
    for (String line : new String(jsonLines, StandardCharsets.UTF_8).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode node = json.readTree(line);
        Map<String, String> attributes = new LinkedHashMap<>();
        node.path("attributes")
            .properties()
            .forEach(e -> attributes.put(e.getKey(), e.getValue().asText()));
        String uri = node.path("image").path("uri").asText();
        items.add(
            new Item(
                node.path("productId").asText(),
                node.path("title").asText(),
                node.path("category").asText(),
                attributes,
                uri.substring(uri.lastIndexOf('/') + 1),
                node.path("stockQuantity").asInt()));
      } catch (IOException e) {
        throw new UncheckedIOException(
            "unreadable line in the demo's " + PRODUCTS + ": " + line, e);
      }
    }
    return items;
  }
}
