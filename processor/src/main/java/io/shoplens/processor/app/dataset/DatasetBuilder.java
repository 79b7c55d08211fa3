package io.shoplens.processor.app.dataset;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import io.shoplens.processor.inference.image.ImageDecodeException;
import io.shoplens.processor.inference.image.ImageDecoder;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Writes a training set (docs/dataset.md) from catalog products and curated rows: {@code images/},
 * {@code qa.jsonl}, {@code products.jsonl} and {@code dataset.json}.
 *
 * <p>Bad input never stops a build halfway: a product without an image or attributes, an image that
 * is refused or does not decode, an attribute no template covers, an unreadable or invalid curated
 * row: each is skipped, printed on a line of its own and counted in {@code dataset.json}.
 */
public final class DatasetBuilder {
  /** The format version written to {@code dataset.json}. */
  public static final int FORMAT = 1;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final QuestionTemplates templates;
  private final AttributeVocabulary vocabulary;
  private final Splits splits;
  private final ImageFetcher fetcher;
  private final int progressEvery;
  private final PrintWriter out;
  private final ImageDecoder decoder = new ImageDecoder();

  /** Fetches a referenced image (the topology's resolver, with its checks and limits). */
  @FunctionalInterface
  public interface ImageFetcher {
    /**
     * @throws ImageRefusedException why the image was refused
     */
    ResolvedImage fetch(String productId, ImageReference reference);
  }

  /**
   * What a build wrote.
   *
   * @param directory the dataset directory
   * @param products products written, by split
   * @param counts rows by split and type
   * @param skipped skips by reason
   */
  public record Summary(
      Path directory,
      Map<String, Integer> products,
      Map<String, Map<String, Integer>> counts,
      Map<String, Integer> skipped) {

    /** Rows written in all. */
    public int rows() {
      return counts.values().stream()
          .flatMap(m -> m.values().stream())
          .mapToInt(Integer::intValue)
          .sum();
    }
  }

  /**
   * @param templates question templates, rules and caption recipe
   * @param vocabulary maps attribute names' aliases and a category path to a kind when the product
   *     has no category attribute
   * @param splits the split assignment
   * @param fetcher fetches image references
   * @param progressEvery print a progress line every this many products
   * @param out where progress and skips are printed
   */
  public DatasetBuilder(
      QuestionTemplates templates,
      AttributeVocabulary vocabulary,
      Splits splits,
      ImageFetcher fetcher,
      int progressEvery,
      PrintWriter out) {
    this.templates = Objects.requireNonNull(templates, "templates");
    this.vocabulary = Objects.requireNonNull(vocabulary, "vocabulary");
    this.splits = Objects.requireNonNull(splits, "splits");
    this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
    if (progressEvery < 1) {
      throw new IllegalArgumentException("progressEvery must be at least 1, got " + progressEvery);
    }
    this.progressEvery = progressEvery;
    this.out = Objects.requireNonNull(out, "out");
  }

  /**
   * Builds the dataset into {@code directory} (created if needed; files of an earlier build are
   * replaced).
   *
   * @param products the catalog's products
   * @param curated curated JSONL files in the {@code qa.jsonl} format, images relative to each file
   * @param source what the products came from, recorded in {@code dataset.json}
   * @param skips counts what was skipped, including while the products were read
   * @throws UncheckedIOException when the directory or a file in it cannot be written
   */
  public Summary build(
      List<CatalogProduct> products,
      List<Path> curated,
      Path directory,
      String source,
      Skips skips) {
    try {
      Files.createDirectories(directory.resolve("images"));
      List<DatasetRow> rows = new ArrayList<>();
      List<ObjectNode> kept = new ArrayList<>();
      int seen = 0;
      int fetched = 0;
      for (CatalogProduct p : products) {
        seen++;
        ObjectNode written = addProduct(p, directory, rows, skips);
        if (written != null) {
          kept.add(written);
          fetched++;
        }
        if (seen % progressEvery == 0 || seen == products.size()) {
          out.printf(
              "dataset: %d/%d products, %d images fetched, %d rows, %d skipped%n",
              seen, products.size(), fetched, rows.size(), skips.total());
        }
      }
      for (Path file : curated) {
        int before = rows.size();
        addCurated(file, directory, rows, skips);
        out.printf("dataset: %d curated rows from %s%n", rows.size() - before, file);
      }
      writeLines(directory.resolve("qa.jsonl"), rows.stream().map(DatasetRow::toJson).toList());
      writeLines(
          directory.resolve("products.jsonl"), kept.stream().map(ObjectNode::toString).toList());
      Summary summary = summarize(directory, rows, skips);
      writeMetadata(directory, rows, summary, source, curated);
      out.printf(
          "dataset: wrote %s: %d rows, products train/val/test %d/%d/%d, %d skipped%n",
          directory,
          summary.rows(),
          summary.products().get(Splits.TRAIN),
          summary.products().get(Splits.VAL),
          summary.products().get(Splits.TEST),
          skips.total());
      return summary;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the dataset to " + directory, e);
    }
  }

  private ObjectNode addProduct(
      CatalogProduct p, Path directory, List<DatasetRow> rows, Skips skips) throws IOException {
    String where = p.where() + " (" + p.productId() + ")";
    if (p.attributes().isEmpty()) {
      skips.skip(where, Skips.MISSING_ATTRIBUTES, "the product has no attributes");
      return null;
    }
    if (p.image() == null) {
      skips.skip(where, Skips.MISSING_IMAGE, "the product has no image");
      return null;
    }
    ProductTruth truth =
        ProductTruth.of(
            p, templates, vocabulary, (reason, detail) -> skips.skip(where, reason, detail));
    if (truth == null) {
      return null;
    }
    byte[] bytes;
    String contentType;
    if (p.image() instanceof CatalogProduct.ImageSource.Reference ref) {
      try {
        ResolvedImage resolved = fetcher.fetch(p.productId(), ref.reference());
        bytes = resolved.bytes();
        contentType = resolved.contentType();
      } catch (ImageRefusedException e) {
        skips.skip(where, Skips.IMAGE_REFUSED, e.reason() + ": " + e.getMessage());
        return null;
      }
    } else {
      Path file = ((CatalogProduct.ImageSource.LocalFile) p.image()).file();
      if (!Files.isRegularFile(file)) {
        skips.skip(where, Skips.MISSING_IMAGE, "no file " + file);
        return null;
      }
      bytes = Files.readAllBytes(file);
      contentType = contentTypeOf(file.getFileName().toString());
    }
    if (!decodes(bytes, where, skips)) {
      return null;
    }
    String image = "images/" + fileName(p.productId()) + "." + extension(contentType);
    Files.write(directory.resolve(image), bytes);
    String split = splits.of(p.productId());
    for (QuestionTemplates.Question q : truth.questions(templates)) {
      rows.add(
          new DatasetRow(image, p.productId(), q.type(), q.question(), q.answer(), split, null));
    }
    rows.add(
        new DatasetRow(
            image,
            p.productId(),
            QuestionTemplates.CAPTION,
            null,
            truth.caption(templates),
            split,
            null));
    ObjectNode row = JSON.createObjectNode();
    row.put("productId", p.productId());
    row.put("title", p.title());
    row.put("category", p.category());
    ObjectNode attrs = row.putObject("attributes");
    p.attributes().forEach(attrs::put);
    row.put("image", image);
    row.put("inStock", p.inStock());
    if (p.stockQuantity() == null) {
      row.putNull("stockQuantity");
    } else {
      row.put("stockQuantity", p.stockQuantity());
    }
    return row;
  }

  private void addCurated(Path file, Path directory, List<DatasetRow> rows, Skips skips)
      throws IOException {
    Set<String> types = Set.copyOf(templates.types());
    Path base = file.toAbsolutePath().getParent();
    try (JsonLines lines = JsonLines.open(file)) {
      for (JsonLines.Line line = lines.next(); line != null; line = lines.next()) {
        String where = line.where();
        DatasetRow row;
        try {
          row = DatasetRow.parse(line.text(), Splits.TRAIN);
        } catch (IllegalArgumentException e) {
          skips.skip(where, Skips.UNREADABLE_ROW, e.getMessage());
          continue;
        }
        if (!types.contains(row.type())) {
          skips.skip(
              where,
              Skips.UNKNOWN_ATTRIBUTE,
              "type '" + row.type() + "', expected one of " + templates.types());
          continue;
        }
        if (QuestionTemplates.CAPTION.equals(row.type()) != (row.question() == null)) {
          skips.skip(
              where,
              Skips.MISSING_FIELD,
              "question must be null for a caption and a string for every other type");
          continue;
        }
        Path src = base.resolve(row.image()).normalize();
        if (!Files.isRegularFile(src)) {
          skips.skip(where, Skips.MISSING_IMAGE, "no file " + src);
          continue;
        }
        byte[] bytes = Files.readAllBytes(src);
        if (!decodes(bytes, where, skips)) {
          continue;
        }
        String image = curatedImage(directory, src, bytes);
        // The product decides the split, whatever the row says: a product is in one split only.
        rows.add(
            new DatasetRow(
                image,
                row.productId(),
                row.type(),
                row.question(),
                row.answer(),
                splits.of(row.productId()),
                file.getFileName().toString()));
      }
    }
  }

  /** Copies a curated image into images/, under a name that no other image has. */
  private static String curatedImage(Path directory, Path src, byte[] bytes) throws IOException {
    String name = src.getFileName().toString();
    Path target = directory.resolve("images").resolve(name);
    if (Files.exists(target) && !Arrays.equals(Files.readAllBytes(target), bytes)) {
      name = "curated-" + sha256(bytes).substring(0, 12) + "-" + name;
      target = directory.resolve("images").resolve(name);
    }
    if (!Files.exists(target)) {
      Files.write(target, bytes);
    }
    return "images/" + name;
  }

  private boolean decodes(byte[] bytes, String where, Skips skips) {
    try {
      decoder.decode(bytes);
      return true;
    } catch (ImageDecodeException e) {
      skips.skip(where, Skips.UNREADABLE_IMAGE, e.getMessage());
      return false;
    }
  }

  private Summary summarize(Path directory, List<DatasetRow> rows, Skips skips) {
    Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
    Map<String, Set<String>> productsBySplit = new LinkedHashMap<>();
    for (String split : Splits.NAMES) {
      Map<String, Integer> byType = new LinkedHashMap<>();
      templates.types().forEach(t -> byType.put(t, 0));
      counts.put(split, byType);
      productsBySplit.put(split, new TreeSet<>());
    }
    for (DatasetRow r : rows) {
      counts.get(r.split()).merge(r.type(), 1, Integer::sum);
      productsBySplit.get(r.split()).add(r.productId());
    }
    Map<String, Integer> products = new LinkedHashMap<>();
    productsBySplit.forEach((s, ids) -> products.put(s, ids.size()));
    return new Summary(directory, products, counts, skips.counts());
  }

  private void writeMetadata(
      Path directory, List<DatasetRow> rows, Summary summary, String source, List<Path> curated)
      throws IOException {
    ObjectNode meta = JSON.createObjectNode();
    meta.put("format", FORMAT);
    meta.put("source", source);
    meta.put("seed", splits.seed());
    meta.put("valFraction", splits.valFraction());
    meta.put("testFraction", splits.testFraction());
    var curatedNode = meta.putArray("curated");
    curated.forEach(f -> curatedNode.add(f.toString()));
    meta.put("rows", summary.rows());
    meta.set("products", JSON.valueToTree(summary.products()));
    meta.set("counts", JSON.valueToTree(summary.counts()));
    Map<String, Set<String>> vocabularyOut = new LinkedHashMap<>();
    for (DatasetRow r : rows) {
      if (!QuestionTemplates.CAPTION.equals(r.type())) {
        vocabularyOut.computeIfAbsent(r.type(), t -> new TreeSet<>()).add(r.answer());
      }
    }
    meta.set("vocabulary", JSON.valueToTree(vocabularyOut));
    meta.set("skipped", JSON.valueToTree(new TreeMap<>(summary.skipped())));
    JSON.writeValue(directory.resolve("dataset.json").toFile(), meta);
  }

  private static void writeLines(Path file, List<String> lines) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (String line : lines) {
        w.write(line);
        w.write('\n');
      }
    }
  }

  /** A product id as a file name: unsafe characters replaced, plus a hash when any were. */
  static String fileName(String productId) {
    String safe = productId.replaceAll("[^A-Za-z0-9._-]", "_");
    if (safe.equals(productId) && !safe.startsWith(".")) {
      return safe;
    }
    return safe.replaceAll("^\\.+", "_")
        + "-"
        + sha256(productId.getBytes(StandardCharsets.UTF_8)).substring(0, 8);
  }

  static String extension(String contentType) {
    String type = contentType.toLowerCase(Locale.ROOT).split(";")[0].strip();
    return switch (type) {
      case "image/jpeg", "image/jpg" -> "jpg";
      case "image/png" -> "png";
      case "image/webp" -> "webp";
      case "image/gif" -> "gif";
      case "image/bmp" -> "bmp";
      default -> "img";
    };
  }

  private static String contentTypeOf(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.endsWith(".jpg") || n.endsWith(".jpeg")) {
      return "image/jpeg";
    }
    int dot = n.lastIndexOf('.');
    return dot < 0 ? "application/octet-stream" : "image/" + n.substring(dot + 1);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }
}
