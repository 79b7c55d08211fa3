package io.shoplens.connect.transforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class CatalogRowToProductTest {

  private static final Schema ROW =
      SchemaBuilder.struct()
          .name("storefront.storefront.products.Value")
          .field("product_id", Schema.STRING_SCHEMA)
          .field("title", Schema.STRING_SCHEMA)
          .field("category", Schema.STRING_SCHEMA)
          .field(
              "attributes", SchemaBuilder.string().name("io.debezium.data.Json").optional().build())
          .field("image_uri", Schema.OPTIONAL_STRING_SCHEMA)
          .field("image_sha256", Schema.OPTIONAL_STRING_SCHEMA)
          .field("image_content_type", Schema.OPTIONAL_STRING_SCHEMA)
          .field("image_size_bytes", Schema.OPTIONAL_INT64_SCHEMA)
          .field("stock_quantity", Schema.OPTIONAL_INT32_SCHEMA)
          .field("updated_at", Schema.OPTIONAL_STRING_SCHEMA)
          .build();

  private final CatalogRowToProduct<SourceRecord> transform = new CatalogRowToProduct<>();

  private Struct row() {
    return new Struct(ROW)
        .put("product_id", "p-1")
        .put("title", "Tee")
        .put("category", "women/tops")
        .put("attributes", "{\"color\": \"navy\", \"sizes\": [\"S\", \"M\"], \"gone\": null}")
        .put("stock_quantity", 3)
        .put("updated_at", "2025-03-14T09:26:53.589Z");
  }

  private Struct apply(Struct row) {
    transform.configure(Map.of());
    SourceRecord record =
        new SourceRecord(Map.of(), Map.of(), "storefront.storefront.products", ROW, row);
    return (Struct) transform.apply(record).value();
  }

  @Test
  void shouldMapARowToTheProductSchema() {
    Struct product = apply(row());

    assertThat(product.schema()).isEqualTo(CatalogRowToProduct.PRODUCT_SCHEMA);
    assertThat(product.schema().name()).isEqualTo("io.shoplens.events.Product");
    assertThat(product.getString("productId")).isEqualTo("p-1");
    assertThat(product.getMap("attributes"))
        .containsExactlyInAnyOrderEntriesOf(Map.of("color", "navy", "sizes", "[\"S\",\"M\"]"));
    assertThat(product.get("image")).isNull();
    assertThat(product.getBoolean("inStock")).as("no in_stock column: quantity > 0").isTrue();
    assertThat(product.get("updatedAt")).isEqualTo(new java.util.Date(1_741_944_413_589L));
  }

  @Test
  void shouldKeepTombstonesAndRefuseBrokenRows() {
    transform.configure(Map.of());
    SourceRecord tombstone = new SourceRecord(Map.of(), Map.of(), "t", null, "p-1", null, null);
    assertThat(transform.apply(tombstone)).isSameAs(tombstone);

    assertThatThrownBy(() -> apply(row().put("image_uri", "https://cdn/x.jpg")))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("describes its image only in part");
    assertThatThrownBy(() -> apply(row().put("attributes", "[1, 2]")))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("must hold a JSON object");
    assertThatThrownBy(() -> apply(row().put("updated_at", "yesterday")))
        .isInstanceOf(DataException.class)
        .hasMessageContaining("'updated_at' holds 'yesterday'");
  }

  @Test
  void shouldReadColumnsNamedBySettings() {
    Schema renamed =
        SchemaBuilder.struct()
            .field("sku", Schema.STRING_SCHEMA)
            .field("name", Schema.STRING_SCHEMA)
            .field("category", Schema.STRING_SCHEMA)
            .build();
    transform.configure(Map.of("product.id.column", "sku", "title.column", "name"));
    SourceRecord record =
        new SourceRecord(
            Map.of(),
            Map.of(),
            "t",
            renamed,
            new Struct(renamed).put("sku", "s-9").put("name", "Dress").put("category", "dresses"));

    Struct product = (Struct) transform.apply(record).value();

    assertThat(product.getString("productId")).isEqualTo("s-9");
    assertThat(product.getString("title")).isEqualTo("Dress");
    assertThat(product.getBoolean("inStock")).isFalse();
  }
}
