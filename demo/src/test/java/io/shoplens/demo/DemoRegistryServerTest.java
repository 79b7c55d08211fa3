package io.shoplens.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.registry.CachedSchemaRegistryClient;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.SchemaMetadata;
import io.shoplens.registry.SchemaNotFoundException;
import io.shoplens.serde.SpecificAvroSerde;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The demo's in-memory registry over Confluent's REST API: our REST client (what {@code shoplens
 * produce} and the gateway use in another process) registers and reads schemas through it, and a
 * record serialized against the REST URL is read back by a serde on the demo's {@code mock://}
 * scope, so both sides see one registry.
 */
class DemoRegistryServerTest {
  @Test
  void shouldServeTheInMemoryRegistryToRestClientsInOtherProcesses() throws Exception {
    String scope = "demo-registry-" + UUID.randomUUID();
    try (DemoRegistryServer server =
            DemoRegistryServer.start(MockSchemaRegistry.getClientForScope(scope), 0);
        CachedSchemaRegistryClient rest = new CachedSchemaRegistryClient(server.url(), 16)) {
      // Given a schema registered over REST
      Schema schema = ImageUploaded.getClassSchema();
      int id = rest.register("uploads-value", schema);

      // Then every read the serdes make answers from the same store
      assertThat(MockSchemaRegistry.getClientForScope(scope).getId("uploads-value", schema))
          .isEqualTo(id);
      try (CachedSchemaRegistryClient fresh = new CachedSchemaRegistryClient(server.url(), 16)) {
        assertThat(fresh.getId("uploads-value", schema)).isEqualTo(id);
        assertThat(fresh.getVersion("uploads-value", schema)).isEqualTo(1);
        assertThat(fresh.getSchemaBySubjectAndId(null, id)).isEqualTo(schema);
        SchemaMetadata latest = fresh.getLatestSchemaMetadata("uploads-value");
        assertThat(latest.id()).isEqualTo(id);
        assertThat(latest.version()).isEqualTo(1);
        assertThat(fresh.getAllSubjects()).containsExactly("uploads-value");
        assertThat(fresh.testCompatibility("uploads-value", schema)).isTrue();
        assertThatThrownBy(() -> fresh.getSchemaBySubjectAndId(null, id + 1000))
            .isInstanceOf(SchemaNotFoundException.class);
      }
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }

  @Test
  void shouldLetARecordWrittenOverRestBeReadOnTheDemosMockScope() {
    String scope = "demo-registry-" + UUID.randomUUID();
    try (DemoRegistryServer server =
            DemoRegistryServer.start(MockSchemaRegistry.getClientForScope(scope), 0);
        SpecificAvroSerde<ImageUploaded> writer = new SpecificAvroSerde<>(ImageUploaded.class);
        SpecificAvroSerde<ImageUploaded> reader = new SpecificAvroSerde<>(ImageUploaded.class)) {
      writer.configure(Map.of("schema.registry.url", server.url()), false);
      reader.configure(Map.of("schema.registry.url", "mock://" + scope), false);
      ImageUploaded upload =
          ImageUploaded.newBuilder()
              .setUploadId("u1")
              .setUserId("shopper")
              .setProductId(null)
              .setImage(new InlineImage(ByteBuffer.wrap(new byte[] {1, 2, 3}), "image/png"))
              .setUploadedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
              .build();

      byte[] bytes = writer.serializer().serialize("shoplens.image-uploads.v1", upload);

      assertThat(reader.deserializer().deserialize("shoplens.image-uploads.v1", bytes))
          .isEqualTo(upload);
    } finally {
      MockSchemaRegistry.dropScope(scope);
    }
  }
}
