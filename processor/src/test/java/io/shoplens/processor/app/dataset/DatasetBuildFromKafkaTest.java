package io.shoplens.processor.app.dataset;

import static io.shoplens.processor.app.dataset.DatasetBuildFromFileTest.lines;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageReference;
import io.shoplens.events.Product;
import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.testing.KafkaTestClients;
import io.shoplens.processor.topology.Topic;
import io.shoplens.processor.topology.Topics;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code shoplens dataset build} on a real in-process KRaft broker: the compacted catalog topic
 * with an update, a tombstone, a product without an image, a reference the server answers with 404,
 * bytes that are no image and a record that is not Avro; images served over HTTP on loopback,
 * allow-listed, and fetched by the topology's resolver.
 */
class DatasetBuildFromKafkaTest {
  static final Path IMAGES = Path.of("src/test/resources/images");

  @TempDir Path temp;
  EmbeddedKafkaCluster kafka;
  HttpServer images;
  final Map<String, byte[]> served = new LinkedHashMap<>();
  String registry;
  Topic<String, Product> catalog;

  @BeforeEach
  void start() throws IOException {
    kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults()).start();
    kafka.createTopics(Topics.CATALOG_PRODUCTS, 2, Map.of("cleanup.policy", "compact"));
    registry = "mock://dataset-test-" + UUID.randomUUID();
    catalog = Topics.create(Map.of("schema.registry.url", registry)).catalogProducts();
    images = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    images.createContext(
        "/images/",
        exchange -> {
          try (exchange) {
            byte[] body = served.get(exchange.getRequestURI().getPath().substring(8));
            if (body == null) {
              exchange.sendResponseHeaders(404, -1);
              return;
            }
            exchange.getResponseHeaders().set("Content-Type", "image/png");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(body);
            }
          }
        });
    images.start();
  }

  @AfterEach
  void stop() {
    if (images != null) {
      images.stop(0);
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldBuildFromTheLatestLiveProductsAndCountEveryOneItSkipped() throws Exception {
    // Given a catalog topic with two good products (one updated), a deleted one and bad ones
    byte[] shirt = Files.readAllBytes(IMAGES.resolve("gray.png"));
    byte[] sneakers = Files.readAllBytes(IMAGES.resolve("wide.png"));
    byte[] notAnImage = "no pixels here".getBytes(StandardCharsets.UTF_8);
    served.put("shirt.png", shirt);
    served.put("sneakers.png", sneakers);
    served.put("garbage.png", notAnImage);
    try (KafkaProducer<byte[], byte[]> producer = KafkaTestClients.idempotentProducer(kafka)) {
      send(producer, product("k1", "shirt", "white", ref("shirt.png", shirt)));
      send(producer, product("k2", "sneakers", "green", ref("sneakers.png", sneakers)));
      send(producer, product("k3", "hat", "red", ref("shirt.png", shirt)));
      send(producer, product("k4", "dress", "black", null));
      send(producer, product("k5", "skirt", "blue", ref("missing.png", shirt)));
      send(producer, product("k6", "boots", "brown", ref("garbage.png", notAnImage)));
      KafkaTestClients.sendRaw(
          producer, Topics.CATALOG_PRODUCTS, "k8", "not avro".getBytes(StandardCharsets.UTF_8));
      send(producer, product("k2", "sneakers", "white", ref("sneakers.png", sneakers)));
      KafkaTestClients.send(producer, catalog, "k3", null);
      producer.flush();
    }
    Path out = temp.resolve("dataset");
    StringWriter stdout = new StringWriter();
    StringWriter stderr = new StringWriter();

    // When a dataset is built from the topic
    int code =
        ShopLensCli.execute(
            new String[] {
              "dataset",
              "build",
              "--bootstrap",
              kafka.bootstrapServers(),
              "--registry",
              registry,
              "--out",
              out.toString(),
              "--progress-every",
              "2",
              "--set",
              "shoplens.image.allowed.hosts=" + host(),
              "--set",
              "shoplens.image.allow.http=true",
              "--set",
              "shoplens.image.allow.private.networks=true"
            },
            Map.of(),
            new PrintWriter(stdout, true),
            new PrintWriter(stderr, true));

    // Then only k1 and k2 (as last written) are in it, and each bad record is counted
    assertThat(code).as(stdout + "\n" + stderr).isEqualTo(ShopLensCli.OK);
    assertThat(out.resolve("images/k1.png")).hasBinaryContent(shirt);
    assertThat(out.resolve("images/k2.png")).hasBinaryContent(sneakers);
    try (var files = Files.list(out.resolve("images"))) {
      assertThat(files).hasSize(2);
    }
    List<JsonNode> rows = lines(out.resolve("qa.jsonl"));
    assertThat(rows).extracting(r -> r.get("productId").asText()).containsOnly("k1", "k2");
    assertThat(rows)
        .filteredOn(
            r ->
                r.get("productId").asText().equals("k2")
                    && r.get("type").asText().equals("caption"))
        .extracting(r -> r.get("answer").asText())
        .containsExactly("a white sneakers");
    assertThat(lines(out.resolve("products.jsonl")))
        .extracting(p -> p.get("productId").asText())
        .containsExactlyInAnyOrder("k1", "k2");
    JsonNode meta = new ObjectMapper().readTree(out.resolve("dataset.json").toFile());
    assertThat(
            new ObjectMapper()
                .convertValue(meta.get("skipped"), new TypeReference<Map<String, Integer>>() {}))
        .isEqualTo(
            Map.of(
                "missing image", 1,
                "image refused", 1,
                "unreadable image", 1,
                "unreadable row", 1));
    assertThat(meta.get("source").asText()).contains(Topics.CATALOG_PRODUCTS);
    assertThat(stdout.toString())
        .contains("catalog: 9 records read from " + Topics.CATALOG_PRODUCTS + ", 5 products")
        .contains("image refused: HTTP_STATUS")
        .contains("dataset: 5/5 products, 2 images fetched");
  }

  private void send(KafkaProducer<byte[], byte[]> producer, Product p) {
    KafkaTestClients.send(producer, catalog, p.getProductId(), p);
  }

  private static Product product(String id, String kind, String colour, ImageReference image) {
    return Product.newBuilder()
        .setProductId(id)
        .setTitle(colour + " " + kind)
        .setCategory("catalog/" + kind)
        .setAttributes(Map.of("category", kind, "colour", colour))
        .setImage(image)
        .setInStock(true)
        .build();
  }

  private ImageReference ref(String name, byte[] bytes) throws Exception {
    return ImageReference.newBuilder()
        .setUri("http://" + host() + ":" + images.getAddress().getPort() + "/images/" + name)
        .setSha256(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
        .setContentType("image/png")
        .setSizeBytes(bytes.length)
        .build();
  }

  private String host() {
    return images.getAddress().getAddress().getHostAddress();
  }
}
