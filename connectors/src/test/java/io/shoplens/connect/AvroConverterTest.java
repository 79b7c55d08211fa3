package io.shoplens.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.shoplens.connect.transforms.CatalogRowToProduct;
import io.shoplens.events.Product;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.schemas.SampleEvents;
import io.shoplens.serde.KafkaAvroDeserializer;
import io.shoplens.serde.KafkaAvroSerializer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AvroConverterTest {

  private static final String TOPIC = "shoplens.test.v1";

  private final String scope = "converter-" + UUID.randomUUID();
  private final String url = "mock://" + scope;
  private final MockSchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);

  @AfterEach
  void dropRegistry() {
    MockSchemaRegistry.dropScope(scope);
  }

  private AvroConverter converter(boolean isKey, Map<String, Object> extra) {
    Map<String, Object> configs = new HashMap<>(extra);
    configs.put("schema.registry.url", url);
    AvroConverter converter = new AvroConverter();
    converter.configure(configs, isKey);
    return converter;
  }

  @Test
  void shouldRoundTripEveryShopLensEventThroughConnectData() {
    AvroConverter converter = converter(false, Map.of());
    for (Map.Entry<String, SpecificRecordBase> sample : SampleEvents.allSamples().entrySet()) {
      String topic = "shoplens." + sample.getKey().replace('/', '-');
      SpecificRecordBase event = sample.getValue();
      byte[] written;
      try (KafkaAvroSerializer serializer = new KafkaAvroSerializer(registry, Map.of())) {
        written = serializer.serialize(topic, event);
      }

      // Given ShopLens's bytes, when read into Connect and written back by the converter
      SchemaAndValue connect = converter.toConnectData(topic, written);
      byte[] rewritten = converter.fromConnectData(topic, connect.schema(), connect.value());

      // Then the Connect view is named and versioned as the registry says, and a ShopLens
      // consumer reads back exactly the event it started from.
      assertThat(connect.schema().name())
          .as(sample.getKey())
          .isEqualTo(event.getSchema().getFullName());
      assertThat(connect.schema().version()).as(sample.getKey()).isEqualTo(1);
      ((Struct) connect.value()).validate();
      try (KafkaAvroDeserializer deserializer =
          new KafkaAvroDeserializer(registry, Map.of(), event.getClass())) {
        Object read = deserializer.deserialize(topic, rewritten);
        assertThat(read).as(sample.getKey()).isEqualTo(event);
      }
      assertThat(ByteBuffer.wrap(rewritten).get()).isZero();
    }
  }

  @Test
  void shouldExposeUnionsEnumsAndTimestampsAsConfluentConnectData() {
    AvroConverter converter = converter(false, Map.of());
    byte[] written;
    try (KafkaAvroSerializer serializer = new KafkaAvroSerializer(registry, Map.of())) {
      written = serializer.serialize(TOPIC, SampleEvents.questionAnsweredFull());
    }

    Struct answer = (Struct) converter.toConnectData(TOPIC, written).value();

    assertThat(answer.get("finishReason")).isInstanceOf(String.class);
    assertThat(answer.schema().field("finishReason").schema().parameters())
        .containsEntry("io.confluent.connect.avro.Enum", "io.shoplens.events.FinishReason");
    assertThat(answer.get("answeredAt")).isInstanceOf(java.util.Date.class);
    assertThat(answer.getStruct("lineage").getString("sourceTopic")).isNotEmpty();

    byte[] upload;
    try (KafkaAvroSerializer serializer = new KafkaAvroSerializer(registry, Map.of())) {
      upload = serializer.serialize("uploads", SampleEvents.imageUploadedFull());
    }
    Struct image = ((Struct) converter.toConnectData("uploads", upload).value()).getStruct("image");
    assertThat(image.schema().name()).isEqualTo("io.confluent.connect.avro.Union");
    assertThat(image.schema().fields())
        .extracting(f -> f.name())
        .containsExactly("InlineImage", "ImageReference");
  }

  @Test
  void shouldRegisterUnderTheTopicSubjectInConfluentWireFormat() throws Exception {
    AvroConverter converter = converter(false, Map.of());
    Schema schema =
        SchemaBuilder.struct().name("shop.Thing").field("n", Schema.INT32_SCHEMA).build();

    byte[] bytes = converter.fromConnectData(TOPIC, schema, new Struct(schema).put("n", 7));

    int id = registry.getLatestSchemaMetadata(TOPIC + "-value").id();
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    assertThat(buffer.get()).isZero();
    assertThat(buffer.getInt()).isEqualTo(id);
    assertThat(buffer.remaining()).as("zig-zag varint 7").isEqualTo(1);
    assertThat(buffer.get()).isEqualTo((byte) 14);
  }

  @Test
  void shouldConvertPrimitiveKeysUnderTheKeySubject() throws Exception {
    AvroConverter keys = converter(true, Map.of());

    byte[] bytes = keys.fromConnectData(TOPIC, Schema.STRING_SCHEMA, "upload-1");

    assertThat(registry.getAllSubjects()).contains(TOPIC + "-key");
    SchemaAndValue read = keys.toConnectData(TOPIC, bytes);
    assertThat(read.schema().type()).isEqualTo(Schema.Type.STRING);
    assertThat(read.schema().version()).as("the registry version of the key schema").isEqualTo(1);
    assertThat(read.value()).isEqualTo("upload-1");
  }

  @Test
  void shouldPassTombstonesThrough() {
    AvroConverter converter = converter(false, Map.of());

    assertThat(converter.fromConnectData(TOPIC, null, null)).isNull();
    assertThat(converter.fromConnectData(TOPIC, CatalogRowToProduct.PRODUCT_SCHEMA, null)).isNull();
    assertThat(converter.toConnectData(TOPIC, null)).isEqualTo(SchemaAndValue.NULL);
  }

  @Test
  void shouldWriteWithTheLatestRegisteredSchemaWhenAsked() throws Exception {
    // Given the Product schema registered by ShopLens, and a converter that must not register
    int id = registry.register("catalog-value", Product.getClassSchema());
    AvroConverter converter =
        converter(false, Map.of("use.latest.version", true, "auto.register.schemas", false));
    Struct product =
        new Struct(CatalogRowToProduct.PRODUCT_SCHEMA)
            .put("productId", "p-1")
            .put("title", "Tee")
            .put("category", "women/tops")
            .put("attributes", Map.of("color", "navy"))
            .put("inStock", true);

    byte[] bytes = converter.fromConnectData("catalog", product.schema(), product);

    assertThat(ByteBuffer.wrap(bytes, 1, 4).getInt()).isEqualTo(id);
    assertThat(registry.getAllVersions("catalog-value")).containsExactly(1);
    try (KafkaAvroDeserializer deserializer =
        new KafkaAvroDeserializer(registry, Map.of(), Product.class)) {
      Product read = (Product) deserializer.deserialize("catalog", bytes);
      assertThat(read.getProductId()).isEqualTo("p-1");
      assertThat(read.getAttributes()).containsEntry("color", "navy");
    }
  }

  @Test
  void shouldRejectBytesThatAreNotConfluentAvro() {
    AvroConverter converter = converter(false, Map.of());

    assertThatThrownBy(
            () -> converter.toConnectData(TOPIC, "{\"json\":1}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("expected magic byte 0x00")
        .hasMessageContaining(TOPIC);
    assertThatThrownBy(() -> converter.toConnectData(TOPIC, new byte[] {0, 0, 0, 0, 42, 2}))
        .isInstanceOf(DataException.class)
        .isNotInstanceOf(RetriableException.class)
        .hasMessageContaining("Unknown schema id 42");
  }

  @Test
  void shouldRefuseSchemalessData() {
    AvroConverter converter = converter(false, Map.of());

    assertThatThrownBy(() -> converter.fromConnectData(TOPIC, null, Map.of("a", 1)))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("needs a Connect schema");
  }

  @Test
  void shouldSurfaceAnUnreachableRegistryAsRetriable() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    AvroConverter converter = new AvroConverter();
    converter.configure(
        Map.of("schema.registry.url", "http://127.0.0.1:" + closedPort, "max.retries", 0), false);

    assertThatThrownBy(() -> converter.fromConnectData(TOPIC, Schema.STRING_SCHEMA, "x"))
        .isInstanceOf(RetriableException.class)
        .hasMessageContaining("Cannot register");
    assertThatThrownBy(() -> converter.toConnectData(TOPIC, new byte[] {0, 0, 0, 0, 1, 2, 'x'}))
        .isInstanceOf(RetriableException.class)
        .hasMessageContaining("Cannot fetch schema id 1");
  }

  @Test
  void shouldSurfaceRegistryServerErrorsAsRetriable() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] body =
              "{\"error_code\":50001,\"message\":\"store unavailable\"}"
                  .getBytes(StandardCharsets.UTF_8);
          exchange
              .getResponseHeaders()
              .add("Content-Type", "application/vnd.schemaregistry.v1+json");
          exchange.sendResponseHeaders(503, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.start();
    try {
      String base = "http://127.0.0.1:" + server.getAddress().getPort();
      AvroConverter failing = new AvroConverter();
      failing.configure(Map.of("schema.registry.url", base, "max.retries", 0), false);
      assertThatThrownBy(() -> failing.fromConnectData(TOPIC, Schema.STRING_SCHEMA, "x"))
          .isInstanceOf(RetriableException.class)
          .hasMessageContaining("store unavailable");
      assertThatThrownBy(() -> failing.toConnectData(TOPIC, new byte[] {0, 0, 0, 0, 7, 2, 'x'}))
          .isInstanceOf(RetriableException.class);
    } finally {
      server.stop(0);
    }
  }

  @Test
  void shouldDescribeItsSettings() {
    AvroConverter converter = new AvroConverter();

    assertThat(converter.config().names())
        .contains(
            "schema.registry.url",
            "auto.register.schemas",
            "use.latest.version",
            "value.subject.name.strategy",
            "connect.meta.data",
            "schemas.cache.config",
            "enhanced.avro.schema.support");
    assertThatThrownBy(() -> converter.toConnectData(TOPIC, new byte[0]))
        .isInstanceOf(IllegalStateException.class);
  }
}
