package io.shoplens.connect.transforms;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.connect.AvroData;
import io.shoplens.events.Product;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.connect.connector.ConnectRecord;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.transforms.Transformation;

/**
 * Turns a flat catalog row (as Debezium's {@code ExtractNewRecordState} leaves it) into the
 * ShopLens {@code io.shoplens.events.Product} value, so that a CDC connector can feed {@code
 * shoplens.catalog.products.v1} directly.
 *
 * <p>Stock transforms cannot do this: Product nests the image in an {@code ImageReference} record,
 * holds attributes as a string map (catalogs store them as JSON), and needs the Product record name
 * for the registry. The Connect schema this transform emits is the Product Avro schema mapped by
 * {@link AvroData}, so that {@code io.shoplens.connect.AvroConverter} with {@code
 * connect.meta.data=false} writes exactly the Product schema.
 *
 * <p>Columns are named by settings ({@code <field>.column}, defaults below are the storefront
 * schema's) and read leniently: the attributes column may be a JSON object text (Debezium's {@code
 * io.debezium.data.Json} for jsonb) or a Connect map (hstore with {@code
 * hstore.handling.mode=map}); JSON values that are not strings become their JSON text. The update
 * time may be a Connect Timestamp, epoch milliseconds ({@code io.debezium.time.Timestamp}) or an
 * ISO-8601 text ({@code io.debezium.time.ZonedTimestamp} for timestamptz). When the in-stock column
 * is absent or null, a product is in stock when its quantity is positive.
 *
 * <p>A tombstone (null value) stays a tombstone: on the compacted topic it deletes the product. A
 * row without id, title or category, with an image described only in part, or with attributes that
 * are not a JSON object is a {@link DataException} naming the column (Connect's {@code
 * errors.tolerance} decides what happens to it).
 */
public class CatalogRowToProduct<R extends ConnectRecord<R>> implements Transformation<R> {

  /** The Connect schema of the emitted values: Product's Avro schema, mapped. */
  public static final Schema PRODUCT_SCHEMA =
      new AvroData(16, true, false).toConnectSchema(Product.getClassSchema());

  private static final Schema IMAGE_SCHEMA = PRODUCT_SCHEMA.field("image").schema();

  /** Product field -> the setting naming its column, and the storefront schema's column. */
  private static final String[][] COLUMNS = {
    {"productId", "product.id.column", "product_id"},
    {"title", "title.column", "title"},
    {"category", "category.column", "category"},
    {"attributes", "attributes.column", "attributes"},
    {"image.uri", "image.uri.column", "image_uri"},
    {"image.sha256", "image.sha256.column", "image_sha256"},
    {"image.contentType", "image.content.type.column", "image_content_type"},
    {"image.sizeBytes", "image.size.bytes.column", "image_size_bytes"},
    {"stockQuantity", "stock.quantity.column", "stock_quantity"},
    {"inStock", "in.stock.column", "in_stock"},
    {"updatedAt", "updated.at.column", "updated_at"},
  };

  public static final ConfigDef CONFIG_DEF = configDef();

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, String> columnOf = new LinkedHashMap<>();

  private static ConfigDef configDef() {
    ConfigDef def = new ConfigDef();
    for (String[] c : COLUMNS) {
      def.define(
          c[1],
          Type.STRING,
          c[2],
          Importance.MEDIUM,
          "The row column that holds Product's " + c[0] + ".");
    }
    return def;
  }

  @Override
  public void configure(Map<String, ?> configs) {
    AbstractConfig config = new AbstractConfig(CONFIG_DEF, configs);
    for (String[] c : COLUMNS) {
      columnOf.put(c[0], config.getString(c[1]));
    }
  }

  @Override
  public R apply(R record) {
    if (record.value() == null) {
      return record;
    }
    if (!(record.value() instanceof Struct row)) {
      throw new DataException(
          "CatalogRowToProduct expects a row struct (after ExtractNewRecordState), got a "
              + record.value().getClass().getName()
              + " on topic "
              + record.topic());
    }
    Struct product = new Struct(PRODUCT_SCHEMA);
    product.put("productId", required(row, "productId"));
    product.put("title", required(row, "title"));
    product.put("category", required(row, "category"));
    product.put("attributes", attributes(row));
    product.put("image", image(row));
    Object quantity = value(row, "stockQuantity");
    Integer stock = quantity == null ? null : ((Number) quantity).intValue();
    product.put("stockQuantity", stock);
    Object inStock = value(row, "inStock");
    product.put("inStock", inStock != null ? (Boolean) inStock : stock != null && stock > 0);
    product.put("updatedAt", updatedAt(row));
    product.validate();
    return record.newRecord(
        record.topic(),
        record.kafkaPartition(),
        record.keySchema(),
        record.key(),
        PRODUCT_SCHEMA,
        product,
        record.timestamp());
  }

  private Object value(Struct row, String productField) {
    String column = columnOf.get(productField);
    Field field = row.schema().field(column);
    return field == null ? null : row.get(field);
  }

  private String required(Struct row, String productField) {
    Object v = value(row, productField);
    if (v == null) {
      throw new DataException(
          "Catalog row has no value in column '"
              + columnOf.get(productField)
              + "' (Product."
              + productField
              + " is required); columns: "
              + row.schema().fields().stream().map(Field::name).toList());
    }
    return v.toString();
  }

  private Map<String, String> attributes(Struct row) {
    Object v = value(row, "attributes");
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    if (v instanceof Map<?, ?> map) {
      map.forEach((k, val) -> out.put(String.valueOf(k), val == null ? null : val.toString()));
      out.values().removeIf(java.util.Objects::isNull);
      return out;
    }
    JsonNode node;
    try {
      node = JSON.readTree(v.toString());
    } catch (JsonProcessingException e) {
      throw new DataException(
          "Catalog column '"
              + columnOf.get("attributes")
              + "' is not JSON: "
              + e.getOriginalMessage(),
          e);
    }
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isObject()) {
      throw new DataException(
          "Catalog column '"
              + columnOf.get("attributes")
              + "' must hold a JSON object of attribute names to values, got "
              + node.getNodeType());
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isNull()) {
        out.put(
            e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
      }
    }
    return out;
  }

  private Struct image(Struct row) {
    Object uri = value(row, "image.uri");
    Object sha = value(row, "image.sha256");
    Object type = value(row, "image.contentType");
    Object size = value(row, "image.sizeBytes");
    if (uri == null && sha == null && type == null && size == null) {
      return null;
    }
    if (uri == null || sha == null || type == null || size == null) {
      throw new DataException(
          "Catalog row describes its image only in part: columns "
              + columnOf.get("image.uri")
              + ", "
              + columnOf.get("image.sha256")
              + ", "
              + columnOf.get("image.contentType")
              + " and "
              + columnOf.get("image.sizeBytes")
              + " must all be set or all be null");
    }
    Struct image = new Struct(IMAGE_SCHEMA);
    image.put("uri", uri.toString());
    image.put("sha256", sha.toString());
    image.put("contentType", type.toString());
    image.put("sizeBytes", ((Number) size).longValue());
    return image;
  }

  private java.util.Date updatedAt(Struct row) {
    Object v = value(row, "updatedAt");
    if (v == null) {
      return null;
    }
    if (v instanceof java.util.Date date) {
      return date;
    }
    if (v instanceof Number millis) {
      return new java.util.Date(millis.longValue());
    }
    try {
      return java.util.Date.from(OffsetDateTime.parse(v.toString()).toInstant());
    } catch (DateTimeParseException e) {
      try {
        return java.util.Date.from(Instant.parse(v.toString()));
      } catch (DateTimeParseException e2) {
        throw new DataException(
            "Catalog column '"
                + columnOf.get("updatedAt")
                + "' holds '"
                + v
                + "': expected a timestamp, epoch milliseconds or ISO-8601 text",
            e2);
      }
    }
  }

  @Override
  public ConfigDef config() {
    return CONFIG_DEF;
  }

  @Override
  public void close() {}
}
