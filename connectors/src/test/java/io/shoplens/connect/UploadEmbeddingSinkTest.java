package io.shoplens.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.debezium.data.vector.FloatVector;
import io.shoplens.events.UploadEmbedding;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.schemas.SampleEvents;
import io.shoplens.serde.KafkaAvroSerializer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.transforms.Transformation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The upload-embeddings topic as Kafka Connect sees it through the shipped pgvector sink
 * configuration ({@code config/pgvector/shoplens-upload-embeddings-pgvector-sink.json}): the
 * converter reads an {@link UploadEmbedding}, the configuration's transforms run, and the record
 * that reaches Debezium's JDBC sink has the feature as a Connect array of FLOAT32 named as
 * Debezium's {@link FloatVector} (which its PostgreSQL dialect writes to a pgvector {@code halfvec}
 * column), the model version and lineage as flat columns, and no second {@code uploadId} beside the
 * key column. A real PostgreSQL with pgvector is not run here (Debian's archive has no pgvector
 * package for this machine's PostgreSQL).
 */
class UploadEmbeddingSinkTest {
  private static final Path CONFIG =
      Path.of("config", "pgvector", "shoplens-upload-embeddings-pgvector-sink.json");

  private final String scope = "upload-embedding-sink-" + UUID.randomUUID();

  @AfterEach
  void dropRegistry() {
    MockSchemaRegistry.dropScope(scope);
  }

  @Test
  void shouldHandTheJdbcSinkTheFeatureAsDebeziumsFloatVectorBesideFlatModelAndLineage()
      throws Exception {
    // Given an upload's feature as ShopLens publishes it
    JsonNode config = new ObjectMapper().readTree(CONFIG.toFile()).path("config");
    String topic = config.path("topics").asText();
    UploadEmbedding event = SampleEvents.uploadEmbeddingFull();
    byte[] bytes;
    try (KafkaAvroSerializer serializer =
        new KafkaAvroSerializer(MockSchemaRegistry.getClientForScope(scope), Map.of())) {
      bytes = serializer.serialize(topic, event);
    }

    // When the configured converter reads it and the configured transforms run
    AvroConverter converter = new AvroConverter();
    converter.configure(Map.of("schema.registry.url", "mock://" + scope), false);
    SchemaAndValue value = converter.toConnectData(topic, bytes);
    SinkRecord record =
        new SinkRecord(
            topic, 0, Schema.STRING_SCHEMA, event.getUploadId(), value.schema(), value.value(), 7);
    for (Transformation<SinkRecord> t : transforms(config)) {
      record = t.apply(record);
      t.close();
    }

    // Then the vector is Debezium's FloatVector, the rest flat columns, the key the upload id
    assertThat(topic).isEqualTo("shoplens.upload-embeddings.v1");
    Struct row = (Struct) record.value();
    Schema vector = row.schema().field("vector").schema();
    assertThat(vector.type()).isEqualTo(Schema.Type.ARRAY);
    assertThat(vector.valueSchema().type()).isEqualTo(Schema.Type.FLOAT32);
    assertThat(vector.name()).isEqualTo(FloatVector.LOGICAL_NAME);
    assertThat(row.getArray("vector")).containsExactly(0.5f, -0.5f, 0.5f, -0.5f);
    assertThat(row.getInt32("dimensions")).isEqualTo(4);
    assertThat(row.getString("model_modelVersion")).isEqualTo(event.getModel().getModelVersion());
    assertThat(row.getString("lineage_sourceTopic")).isEqualTo("shoplens.image-uploads.v1");
    assertThat(row.schema().field("uploadId")).isNull();
    assertThat(record.key()).isEqualTo("upload-0001");
    assertThat(config.path("primary.key.mode").asText()).isEqualTo("record_key");
    assertThat(config.path("delete.enabled").asText()).isEqualTo("true");
  }

  /** The configuration's transforms, in order, configured from their prefixed settings. */
  @SuppressWarnings("unchecked")
  private static List<Transformation<SinkRecord>> transforms(JsonNode config) throws Exception {
    List<Transformation<SinkRecord>> out = new ArrayList<>();
    for (String alias : config.path("transforms").asText().split(",")) {
      String prefix = "transforms." + alias.trim() + ".";
      Map<String, String> settings = new HashMap<>();
      config
          .properties()
          .forEach(
              e -> {
                if (e.getKey().startsWith(prefix)) {
                  settings.put(e.getKey().substring(prefix.length()), e.getValue().asText());
                }
              });
      Transformation<SinkRecord> t =
          (Transformation<SinkRecord>)
              Class.forName(settings.remove("type")).getDeclaredConstructor().newInstance();
      t.configure(settings);
      out.add(t);
    }
    return out;
  }
}
