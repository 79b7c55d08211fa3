package io.shoplens.processor.app.dataset;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.app.cli.ShopLensCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shoplens dataset build --products}: a catalog file (as the Python catalog generator
 * writes) and curated rows, with every kind of bad input among them.
 */
class DatasetBuildFromFileTest {
  static final Path IMAGES = Path.of("src/test/resources/images");
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;
  Path catalog;
  Path out;
  final StringWriter stdout = new StringWriter();
  final StringWriter stderr = new StringWriter();

  @BeforeEach
  void catalog() throws IOException {
    catalog = temp.resolve("catalog");
    Files.createDirectories(catalog.resolve("images"));
    Files.copy(IMAGES.resolve("gray.png"), catalog.resolve("images/p1.png"));
    Files.copy(IMAGES.resolve("photo.jpg"), catalog.resolve("images/p2.jpg"));
    Files.copy(IMAGES.resolve("wide.png"), catalog.resolve("images/p7.png"));
    Files.writeString(catalog.resolve("images/p5.png"), "not an image");
    Files.writeString(
        catalog.resolve("products.jsonl"),
        String.join(
            "\n",
            "{\"productId\":\"p1\",\"title\":\"White striped shirt\",\"category\":\"tops/shirts\","
                + "\"attributes\":{\"category\":\"shirt\",\"colour\":\"white\",\"pattern\":\"striped\","
                + "\"material\":\"cotton\",\"style\":\"formal\"},\"image\":\"images/p1.png\","
                + "\"inStock\":true,\"stockQuantity\":3}",
            "{\"productId\":\"p2\",\"title\":\"Navy sneakers\",\"category\":\"footwear/sneakers\","
                + "\"attributes\":{\"category\":\"sneakers\",\"color\":\"navy blue\",\"brand\":\"acme\"},"
                + "\"image\":{\"uri\":\"images/p2.jpg\",\"contentType\":\"image/jpeg\"},\"inStock\":false}",
            "{\"productId\":\"p3\",\"title\":\"No image\",\"category\":\"hats\","
                + "\"attributes\":{\"category\":\"hat\"},\"inStock\":true}",
            "{\"productId\":\"p4\",\"title\":\"No attributes\",\"category\":\"\",\"attributes\":{},"
                + "\"image\":\"images/p1.png\",\"inStock\":true}",
            "{\"productId\":\"p5\",\"title\":\"Broken image\",\"category\":\"hats\","
                + "\"attributes\":{\"category\":\"hat\"},\"image\":\"images/p5.png\",\"inStock\":true}",
            "this line is not JSON",
            "{\"productId\":\"p6\",\"title\":\"Image file gone\",\"category\":\"hats\","
                + "\"attributes\":{\"category\":\"hat\"},\"image\":\"images/gone.png\",\"inStock\":true}",
            "{\"productId\":\"p7\",\"title\":\"Old\",\"category\":\"skirts\","
                + "\"attributes\":{\"category\":\"skirt\",\"colour\":\"green\"},\"image\":\"images/p7.png\","
                + "\"inStock\":true}",
            "{\"productId\":\"p7\",\"title\":\"New\",\"category\":\"bottoms/skirts\","
                + "\"attributes\":{\"colour\":\"red\"},\"image\":\"images/p7.png\",\"inStock\":true}",
            ""));
    out = temp.resolve("dataset");
  }

  @Test
  void shouldWriteQuestionsCaptionsAndProductsAndCountEveryBadProduct() throws IOException {
    // When the catalog file is turned into a dataset
    int code = run("--products", catalog.resolve("products.jsonl").toString(), "--seed", "3");

    // Then it succeeds, with the images of the usable products only
    assertThat(code).as(stderr.toString()).isEqualTo(ShopLensCli.OK);
    assertThat(out.resolve("images/p1.png")).exists();
    assertThat(out.resolve("images/p2.jpg")).hasSameBinaryContentAs(IMAGES.resolve("photo.jpg"));
    assertThat(out.resolve("images")).isDirectoryNotContaining("glob:**p5*");

    List<JsonNode> rows = lines(out.resolve("qa.jsonl"));
    // p1: 4 category + 5 colour + 3 material + 3 pattern + 3 style questions and a caption
    assertThat(rows.stream().filter(r -> r.get("productId").asText().equals("p1"))).hasSize(19);
    assertThat(rows)
        .anySatisfy(
            r -> {
              assertThat(r.get("productId").asText()).isEqualTo("p1");
              assertThat(r.get("type").asText()).isEqualTo("caption");
              assertThat(r.get("question").isNull()).isTrue();
              assertThat(r.get("answer").asText()).isEqualTo("a white striped shirt");
              assertThat(r.get("image").asText()).isEqualTo("images/p1.png");
            });
    // p2: the alias "color" is a colour; sneakers get the outdoor rule; brand has no questions
    assertThat(rows)
        .anySatisfy(
            r -> {
              assertThat(r.get("question").asText()).isEqualTo("what colour are the sneakers?");
              assertThat(r.get("answer").asText()).isEqualTo("navy blue");
            })
        .anySatisfy(
            r -> {
              assertThat(r.get("question").asText())
                  .isEqualTo("Is this shoe suitable for outdoor activities?");
              assertThat(r.get("answer").asText()).isEqualTo("yes");
            });
    // p7: the later line wins; its kind comes from the category path
    assertThat(rows)
        .anySatisfy(
            r -> {
              assertThat(r.get("productId").asText()).isEqualTo("p7");
              assertThat(r.get("type").asText()).isEqualTo("caption");
              assertThat(r.get("answer").asText()).isEqualTo("a red skirt");
            });
    // Every product's rows are in the product's one split
    Splits splits = new Splits(3, 0.1, 0.1);
    assertThat(rows)
        .allSatisfy(
            r ->
                assertThat(r.get("split").asText())
                    .isEqualTo(splits.of(r.get("productId").asText())));

    List<JsonNode> products = lines(out.resolve("products.jsonl"));
    assertThat(products)
        .extracting(p -> p.get("productId").asText())
        .containsExactly("p1", "p2", "p7");
    assertThat(products.get(1).get("image").asText()).isEqualTo("images/p2.jpg");
    assertThat(products.get(1).get("inStock").asBoolean()).isFalse();
    assertThat(products.get(0).get("stockQuantity").asInt()).isEqualTo(3);

    JsonNode meta = JSON.readTree(out.resolve("dataset.json").toFile());
    assertThat(meta.get("format").asInt()).isEqualTo(1);
    assertThat(meta.get("rows").asInt()).isEqualTo(rows.size());
    assertThat(JSON.convertValue(meta.get("skipped"), new TypeReference<Map<String, Integer>>() {}))
        .isEqualTo(
            Map.of(
                "missing image", 2,
                "missing attributes", 1,
                "unreadable image", 1,
                "unreadable row", 1,
                "unknown attribute", 1));
    int counted = 0;
    for (JsonNode split : meta.get("counts")) {
      for (JsonNode n : split) {
        counted += n.asInt();
      }
    }
    assertThat(counted).isEqualTo(rows.size());
    assertThat(meta.get("vocabulary").get("colour").toString())
        .contains("navy blue", "white", "red");
    // One line per skip, saying where and why
    assertThat(stdout.toString())
        .contains("skipped products.jsonl:3 (p3): missing image")
        .contains("skipped products.jsonl:6: unreadable row")
        .contains("unknown attribute: brand=acme")
        .contains("dataset: 7/7 products, 3 images fetched");
  }

  @Test
  void shouldMergeValidCuratedRowsIntoTheProductsSplitAndSkipBadOnes() throws IOException {
    // Given curated rows: two good ones (one about a catalog product, one about a new product)
    // and one of each kind of bad row
    Path curatedDir = temp.resolve("curated");
    Files.createDirectories(curatedDir.resolve("pics"));
    Files.copy(IMAGES.resolve("palette.png"), curatedDir.resolve("pics/c9.png"));
    Path curated = curatedDir.resolve("rows.jsonl");
    Files.writeString(
        curated,
        String.join(
            "\n",
            "{\"image\":\"pics/c9.png\",\"productId\":\"p1\",\"type\":\"rule\","
                + "\"question\":\"Can I wear it to the office?\",\"answer\":\"yes\",\"split\":\"test\"}",
            "{\"image\":\"pics/c9.png\",\"productId\":\"c9\",\"type\":\"caption\",\"question\":null,"
                + "\"answer\":\"a blue dotted dress\"}",
            "{\"image\":\"pics/c9.png\",\"productId\":\"c9\",\"type\":\"brand\",\"question\":\"Who?\","
                + "\"answer\":\"acme\"}",
            "{\"image\":\"pics/c9.png\",\"productId\":\"c9\",\"type\":\"caption\",\"question\":\"Why?\","
                + "\"answer\":\"a dress\"}",
            "{\"image\":\"pics/none.png\",\"productId\":\"c9\",\"type\":\"colour\",\"question\":\"?\","
                + "\"answer\":\"blue\"}",
            "{\"image\":\"pics/c9.png\",\"productId\":\"c9\",\"type\":\"colour\",\"question\":\"?\"}",
            "{broken"));

    // When it is merged into the catalog's dataset
    int code =
        run(
            "--products",
            catalog.resolve("products.jsonl").toString(),
            "--curated",
            curated.toString(),
            "--test-fraction",
            "0.3");

    // Then the good rows are in, in their product's split, and each bad one is counted
    assertThat(code).as(stderr.toString()).isEqualTo(ShopLensCli.OK);
    Splits splits = new Splits(0, 0.1, 0.3);
    List<JsonNode> curatedRows =
        lines(out.resolve("qa.jsonl")).stream().filter(r -> r.has("source")).toList();
    assertThat(curatedRows).hasSize(2);
    assertThat(curatedRows.get(0).get("split").asText()).isEqualTo(splits.of("p1"));
    assertThat(curatedRows.get(0).get("source").asText()).isEqualTo("rows.jsonl");
    assertThat(curatedRows.get(1).get("image").asText()).isEqualTo("images/c9.png");
    assertThat(out.resolve("images/c9.png")).hasSameBinaryContentAs(IMAGES.resolve("palette.png"));
    JsonNode skipped = JSON.readTree(out.resolve("dataset.json").toFile()).get("skipped");
    assertThat(skipped.get("unknown attribute").asInt()).isEqualTo(2); // brand in p2 + the row
    assertThat(skipped.get("missing field").asInt()).isEqualTo(1);
    assertThat(skipped.get("missing image").asInt()).isEqualTo(3);
    assertThat(skipped.get("unreadable row").asInt()).isEqualTo(3);
    assertThat(stdout.toString()).contains("dataset: 2 curated rows from " + curated);
  }

  @Test
  void shouldRefuseANonEmptyOutputDirectoryWithUsageExitCode() throws IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "mine");
    int code = run("--products", catalog.resolve("products.jsonl").toString());
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(stderr.toString()).contains("is not empty");
    assertThat(out.resolve("keep.txt")).hasContent("mine");
  }

  @Test
  void shouldRefuseMalformedImageSettingsWithUsageExitCodeBeforeWritingAnything() {
    int code =
        run(
            "--products",
            catalog.resolve("products.jsonl").toString(),
            "--set",
            "shoplens.image.allow.http=maybe");
    assertThat(code).isEqualTo(ShopLensCli.USAGE);
    assertThat(stderr.toString()).contains("shoplens.image.allow.http");
    assertThat(out).doesNotExist();
  }

  @Test
  void shouldRequireExactlyOneSourceOfProducts() {
    assertThat(run()).isEqualTo(ShopLensCli.USAGE);
    assertThat(run("--products", "x.jsonl", "--bootstrap", "localhost:9092"))
        .isEqualTo(ShopLensCli.USAGE);
    assertThat(run("--bootstrap", "localhost:9092")).isEqualTo(ShopLensCli.USAGE);
    assertThat(stderr.toString()).contains("--bootstrap needs --registry");
  }

  private int run(String... args) {
    List<String> all = new ArrayList<>(List.of("dataset", "build", "--out", out.toString()));
    all.addAll(List.of(args));
    return ShopLensCli.execute(
        all.toArray(String[]::new),
        Map.of(),
        new PrintWriter(stdout, true),
        new PrintWriter(stderr, true));
  }

  static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }
}
