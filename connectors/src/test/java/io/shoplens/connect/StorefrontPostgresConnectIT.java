package io.shoplens.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.events.Product;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.schemas.SampleEvents;
import io.shoplens.serde.KafkaAvroDeserializer;
import io.shoplens.serde.KafkaAvroSerializer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The shipped connector configurations ({@code connectors/config/*.json}) on Kafka Connect
 * in-process (with its own KRaft broker) against a real PostgreSQL, both with {@link
 * AvroConverter}: ShopLens answers become upserted rows, catalog rows become Product events.
 *
 * <p>PostgreSQL comes from {@code scripts/start-postgres} (CI's {@code .ci/run} starts it);
 * settings from the environment or system properties {@code SHOPLENS_PG_HOST}, {@code _PORT},
 * {@code _DATABASE}, {@code _USER}, {@code _PASSWORD} (defaults 127.0.0.1, 55432, shoplens,
 * shoplens, shoplens). An unreachable server fails the test: it is not skipped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StorefrontPostgresConnectIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final String host = setting("SHOPLENS_PG_HOST", "127.0.0.1");
  private final String port = setting("SHOPLENS_PG_PORT", "55432");
  private final String database = setting("SHOPLENS_PG_DATABASE", "shoplens");
  private final String user = setting("SHOPLENS_PG_USER", "shoplens");
  private final String password = setting("SHOPLENS_PG_PASSWORD", "shoplens");
  private final String jdbcUrl = "jdbc:postgresql://" + host + ":" + port + "/" + database;

  private final String scope = "connect-it-" + UUID.randomUUID();
  private final String registryUrl = "mock://" + scope;
  private final Path repo = Path.of(System.getProperty("shoplens.repo.dir", ".."));

  private EmbeddedConnectCluster connect;
  private Connection db;

  private static String setting(String name, String fallback) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      value = System.getProperty(name);
    }
    return value == null || value.isBlank() ? fallback : value;
  }

  @BeforeAll
  void startPostgresSchemaAndConnect() throws Exception {
    try {
      db = DriverManager.getConnection(jdbcUrl, user, password);
    } catch (SQLException e) {
      throw new AssertionError(
          "PostgreSQL is not reachable at "
              + jdbcUrl
              + " as "
              + user
              + " ("
              + e.getMessage()
              + "). Start it with scripts/start-postgres (CI's .ci/run does), or point"
              + " SHOPLENS_PG_HOST/PORT/DATABASE/USER/PASSWORD at one with wal_level=logical.",
          e);
    }
    try (Statement s = db.createStatement()) {
      // A clean storefront per run: no rows, slot or publication left by an earlier run.
      s.execute("DROP SCHEMA IF EXISTS storefront CASCADE");
      s.execute("DROP PUBLICATION IF EXISTS shoplens_catalog");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                  + " WHERE slot_name = 'shoplens_catalog' AND NOT active")) {
        rs.next();
      }
      s.execute(
          Files.readString(
              repo.resolve("deploy/postgres/init/01-storefront.sql"), StandardCharsets.UTF_8));
    }
    connect =
        new EmbeddedConnectCluster.Builder()
            .name("shoplens-connect-it")
            .numWorkers(1)
            .numBrokers(1)
            .workerProps(new HashMap<>(Map.of("offset.flush.interval.ms", "1000")))
            .brokerProps(new Properties())
            .build();
    connect.start();
  }

  @AfterAll
  void stop() throws SQLException {
    if (connect != null) {
      connect.stop();
    }
    if (db != null) {
      db.close();
    }
    MockSchemaRegistry.dropScope(scope);
  }

  /** A shipped configuration, pointed at this test's PostgreSQL, registry and topics. */
  private Map<String, String> shippedConfig(String file, Map<String, String> overrides)
      throws IOException {
    JsonNode root = JSON.readTree(repo.resolve("connectors/config").resolve(file).toFile());
    Map<String, String> config = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.get("config").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      config.put(e.getKey(), e.getValue().asText());
    }
    config.replaceAll((k, v) -> k.endsWith("schema.registry.url") ? registryUrl : v);
    config.putAll(overrides);
    assertThat(config.values()).noneMatch(v -> v.contains("${env:"));
    return config;
  }

  private List<Map<String, Object>> query(String sql) throws SQLException {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (Statement s = db.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        Map<String, Object> row = new HashMap<>();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          row.put(rs.getMetaData().getColumnLabel(i), rs.getObject(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  @Test
  void shouldWriteAnswersAsRowsAndUpsertThemByQuestionId() throws Exception {
    // Given the shipped answers sink, reading ShopLens's Avro through our converter
    String name = "answers-sink";
    connect.kafka().createTopic("shoplens.answers.v1", 1);
    connect.configureConnector(
        name,
        shippedConfig(
            "shoplens-answers-postgres-sink.json",
            Map.of(
                "connection.url", jdbcUrl,
                "connection.username", user,
                "connection.password", password)));
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning(name, 1, "sink not running");

    QuestionAnswered first = SampleEvents.questionAnsweredFull();
    QuestionAnswered replay = SampleEvents.questionAnsweredFull();
    replay.setAnswer("a navy blue cotton t-shirt");
    replay.getModel().setModelVersion("v2-replay");

    // When ShopLens answers a question, and a replay answers it again
    try (KafkaAvroSerializer serializer =
            new KafkaAvroSerializer(MockSchemaRegistry.getClientForScope(scope), Map.of());
        KafkaProducer<byte[], byte[]> producer = connect.kafka().createProducer(Map.of())) {
      byte[] key = first.getUploadId().getBytes(StandardCharsets.UTF_8);
      producer
          .send(
              new ProducerRecord<>(
                  "shoplens.answers.v1", key, serializer.serialize("shoplens.answers.v1", first)))
          .get();
      await("the first answer as a row")
          .atMost(WAIT)
          .until(() -> query("SELECT answer FROM storefront.shoplens_answers").size() == 1);
      assertThat(
              query(
                  "SELECT questionid, uploadid, answer, model_modelversion, tokencounts_prompttokens,"
                      + " lineage_sourcetopic, finishreason FROM storefront.shoplens_answers"))
          .singleElement()
          .satisfies(
              row -> {
                assertThat(row).containsEntry("questionid", first.getQuestionId());
                assertThat(row).containsEntry("uploadid", first.getUploadId());
                assertThat(row).containsEntry("answer", first.getAnswer());
                assertThat(row)
                    .containsEntry("model_modelversion", first.getModel().getModelVersion());
                assertThat(row)
                    .containsEntry(
                        "tokencounts_prompttokens", first.getTokenCounts().getPromptTokens());
                assertThat(row).containsEntry("finishreason", first.getFinishReason().name());
              });

      producer
          .send(
              new ProducerRecord<>(
                  "shoplens.answers.v1", key, serializer.serialize("shoplens.answers.v1", replay)))
          .get();
    }

    // Then the row is updated in place: one row per question
    await("the replayed answer upserted")
        .atMost(WAIT)
        .until(
            () -> query("SELECT answer, model_modelversion FROM storefront.shoplens_answers"),
            rows ->
                rows.size() == 1
                    && "a navy blue cotton t-shirt".equals(rows.get(0).get("answer"))
                    && "v2-replay".equals(rows.get(0).get("model_modelversion")));
    connect.deleteConnector(name);
  }

  @Test
  void shouldPublishCatalogRowsAsProductEvents() throws Exception {
    // Given a product in the catalog before the connector starts (snapshot) ...
    try (Statement s = db.createStatement()) {
      s.execute(
          "INSERT INTO storefront.products (product_id, title, category, attributes,"
              + " image_uri, image_sha256, image_content_type, image_size_bytes, stock_quantity,"
              + " in_stock, updated_at) VALUES ('tee-1', 'Crew tee', 'women/tops/t-shirts',"
              + " '{\"color\": \"navy blue\", \"size_count\": 5}', 'https://cdn.example/tee-1.jpg',"
              + " '"
              + "ab".repeat(32)
              + "', 'image/jpeg', 2048, 12, true,"
              + " '2025-03-14T09:26:53.589Z')");
    }
    String name = "catalog-source";
    connect.configureConnector(
        name,
        shippedConfig(
            "storefront-catalog-postgres-source.json",
            Map.of(
                "database.hostname", host,
                "database.port", port,
                "database.dbname", database,
                "database.user", user,
                "database.password", password)));
    connect.assertions().assertConnectorAndExactlyNumTasksAreRunning(name, 1, "source not running");

    try (KafkaAvroDeserializer deserializer =
            new KafkaAvroDeserializer(
                MockSchemaRegistry.getClientForScope(scope), Map.of(), Product.class);
        KafkaConsumer<byte[], byte[]> consumer =
            connect
                .kafka()
                .createConsumerAndSubscribeTo(
                    Map.of("group.id", "catalog-it", "auto.offset.reset", "earliest"),
                    "shoplens.catalog.products.v1")) {
      List<ConsumerRecord<byte[], byte[]>> seen = new ArrayList<>();

      // When the snapshot runs
      await("the snapshot's Product event")
          .atMost(WAIT)
          .until(() -> poll(consumer, seen), n -> n >= 1);

      // Then the row is a Product keyed by its id
      ConsumerRecord<byte[], byte[]> snapshot = seen.get(0);
      assertThat(new String(snapshot.key(), StandardCharsets.UTF_8)).isEqualTo("tee-1");
      Product product = (Product) deserializer.deserialize(snapshot.topic(), snapshot.value());
      assertThat(product.getProductId()).isEqualTo("tee-1");
      assertThat(product.getTitle()).isEqualTo("Crew tee");
      assertThat(product.getCategory()).isEqualTo("women/tops/t-shirts");
      assertThat(product.getAttributes())
          .containsExactlyInAnyOrderEntriesOf(Map.of("color", "navy blue", "size_count", "5"));
      assertThat(product.getImage().getUri()).isEqualTo("https://cdn.example/tee-1.jpg");
      assertThat(product.getImage().getSizeBytes()).isEqualTo(2048L);
      assertThat(product.getStockQuantity()).isEqualTo(12);
      assertThat(product.getInStock()).isTrue();
      assertThat(product.getUpdatedAt()).isEqualTo(SampleEvents.T0);

      // When the catalog changes while the connector streams (insert, update, delete)
      try (Statement s = db.createStatement()) {
        s.execute(
            "INSERT INTO storefront.products (product_id, title, category)"
                + " VALUES ('dress-2', 'Wrap dress', 'women/dresses')");
        s.execute(
            "UPDATE storefront.products SET stock_quantity = 0, in_stock = false"
                + " WHERE product_id = 'tee-1'");
        s.execute("DELETE FROM storefront.products WHERE product_id = 'dress-2'");
      }
      await("the streamed changes").atMost(WAIT).until(() -> poll(consumer, seen), n -> n >= 4);

      // Then each change is a Product event, and the delete a tombstone for the compacted topic
      Product inserted = (Product) deserializer.deserialize("t", seen.get(1).value());
      assertThat(inserted.getProductId()).isEqualTo("dress-2");
      assertThat(inserted.getImage()).isNull();
      assertThat(inserted.getAttributes()).isEmpty();
      Product updated = (Product) deserializer.deserialize("t", seen.get(2).value());
      assertThat(updated.getProductId()).isEqualTo("tee-1");
      assertThat(updated.getInStock()).isFalse();
      assertThat(updated.getStockQuantity()).isZero();
      assertThat(new String(seen.get(3).key(), StandardCharsets.UTF_8)).isEqualTo("dress-2");
      assertThat(seen.get(3).value()).isNull();
    }
    // And the value subject holds the Product schema, not a connector-specific shape
    assertThat(
            MockSchemaRegistry.getClientForScope(scope)
                .getLatestSchemaMetadata("shoplens.catalog.products.v1-value")
                .avroSchema()
                .getFullName())
        .isEqualTo("io.shoplens.events.Product");
    connect.deleteConnector(name);
  }

  private static int poll(
      KafkaConsumer<byte[], byte[]> consumer, List<ConsumerRecord<byte[], byte[]>> seen) {
    consumer.poll(Duration.ofMillis(500)).forEach(seen::add);
    return seen.size();
  }
}
