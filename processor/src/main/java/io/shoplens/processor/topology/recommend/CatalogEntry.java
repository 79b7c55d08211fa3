package io.shoplens.processor.topology.recommend;

import io.shoplens.processor.topology.BinaryFormat;
import io.soabase.recordbuilder.core.RecordBuilder;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serde;

/**
 * A catalog product as the recommender keeps it: what scoring needs from the {@code Product} event
 * plus its image embedding. The value of the embeddings topic and of the global catalog store.
 *
 * <p>Stored in a compact binary form (see {@link #serde()}): embeddings are thousands of floats per
 * product, which JSON or Avro-as-doubles would triple. Internal to ShopLens; its first byte is a
 * format version so that a later layout can still read this one.
 *
 * @param productId the product (record key)
 * @param title display title
 * @param category the catalog's category path
 * @param attributes the catalog's attributes as published (normalised when indexed, so that a
 *     vocabulary change applies on the next start)
 * @param inStock whether it can be bought now
 * @param imageKey {@code uri#sha256} of the image the embedding was computed from, or null
 * @param modelVersion model version of the embedding, or null when there is none
 * @param embedding L2-normalised image embedding, or null (no image, or the image failed)
 * @param sourcePartition catalog partition of the product record
 * @param sourceOffset catalog offset of the product record
 */
@RecordBuilder
public record CatalogEntry(
    String productId,
    String title,
    String category,
    Map<String, String> attributes,
    boolean inStock,
    String imageKey,
    String modelVersion,
    float[] embedding,
    int sourcePartition,
    long sourceOffset) {

  private static final byte FORMAT = 1;

  public CatalogEntry {
    Objects.requireNonNull(productId, "productId");
    Objects.requireNonNull(title, "title");
    Objects.requireNonNull(category, "category");
    attributes = Map.copyOf(Objects.requireNonNull(attributes, "attributes"));
    if ((embedding == null) != (modelVersion == null)) {
      throw new IllegalArgumentException(
          "product " + productId + ": an embedding needs its model version and vice versa");
    }
  }

  /** The same product with another embedding (or none). */
  public CatalogEntry withEmbedding(String version, float[] vector) {
    return CatalogEntryBuilder.builder(this).modelVersion(version).embedding(vector).build();
  }

  private static final BinaryFormat<CatalogEntry> BINARY =
      new BinaryFormat<>(
          "catalog entry",
          FORMAT,
          e -> 64 + 4 * lengthOf(e.embedding()),
          CatalogEntry::write,
          CatalogEntry::read);

  /** Binary serde; a null value is a tombstone both ways. */
  public static Serde<CatalogEntry> serde() {
    return BINARY.serde();
  }

  private static void write(CatalogEntry e, DataOutputStream out) throws IOException {
    string(out, e.productId());
    string(out, e.title());
    string(out, e.category());
    out.writeInt(e.attributes().size());
    for (Map.Entry<String, String> a : new TreeMap<>(e.attributes()).entrySet()) {
      string(out, a.getKey());
      string(out, a.getValue());
    }
    out.writeBoolean(e.inStock());
    string(out, e.imageKey());
    string(out, e.modelVersion());
    out.writeInt(e.embedding() == null ? -1 : e.embedding().length);
    if (e.embedding() != null) {
      for (float f : e.embedding()) {
        out.writeFloat(f);
      }
    }
    out.writeInt(e.sourcePartition());
    out.writeLong(e.sourceOffset());
  }

  private static CatalogEntry read(DataInputStream in, int length) throws IOException {
    String productId = string(in);
    String title = string(in);
    String category = string(in);
    int n = in.readInt();
    Map<String, String> attributes = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      attributes.put(string(in), string(in));
    }
    boolean inStock = in.readBoolean();
    String imageKey = string(in);
    String modelVersion = string(in);
    int dim = in.readInt();
    float[] embedding = null;
    if (dim >= 0) {
      embedding = new float[dim];
      for (int i = 0; i < dim; i++) {
        embedding[i] = in.readFloat();
      }
    }
    int partition = in.readInt();
    long offset = in.readLong();
    return new CatalogEntry(
        productId,
        title,
        category,
        attributes,
        inStock,
        imageKey,
        modelVersion,
        embedding,
        partition,
        offset);
  }

  private static int lengthOf(float[] v) {
    return v == null ? 0 : v.length;
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String string(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    return new String(in.readNBytes(n), StandardCharsets.UTF_8);
  }
}
