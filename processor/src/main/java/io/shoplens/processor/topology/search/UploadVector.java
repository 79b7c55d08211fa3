package io.shoplens.processor.topology.search;

import io.shoplens.processor.topology.BinaryFormat;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Objects;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;

/**
 * An upload's pooled retrieval image feature (the L2-normalised mean of its query vectors): the
 * value of the upload-embeddings topic (key uploadId) and of the global store every instance keeps
 * of it, so that a search on any instance can use any upload's image.
 *
 * <p>Stored in a compact binary form whose first byte is a format version, as {@code CatalogEntry}
 * is. Internal to ShopLens.
 *
 * @param uploadId the upload (record key)
 * @param modelVersion the retrieval model version of the feature
 * @param vector the pooled feature, a unit vector
 */
public record UploadVector(String uploadId, String modelVersion, float[] vector) {
  private static final byte FORMAT = 1;

  public UploadVector {
    Objects.requireNonNull(uploadId, "uploadId");
    Objects.requireNonNull(modelVersion, "modelVersion");
    Objects.requireNonNull(vector, "vector");
    vector = vector.clone();
  }

  @Override
  public float[] vector() {
    return vector.clone();
  }

  private static final BinaryFormat<UploadVector> BINARY =
      new BinaryFormat<>(
          "upload vector",
          FORMAT,
          v -> 32 + 4 * v.vector.length,
          UploadVector::write,
          UploadVector::read);

  /** Binary serde; a null value is a tombstone both ways. */
  public static Serde<UploadVector> serde() {
    return BINARY.serde();
  }

  private static void write(UploadVector v, DataOutputStream out) throws IOException {
    out.writeUTF(v.uploadId);
    out.writeUTF(v.modelVersion);
    out.writeInt(v.vector.length);
    for (float f : v.vector) {
      out.writeFloat(f);
    }
  }

  private static UploadVector read(DataInputStream in, int length) throws IOException {
    String uploadId = in.readUTF();
    String version = in.readUTF();
    int n = in.readInt();
    if (n < 0 || n > (length / 4)) {
      throw new SerializationException("upload vector of " + n + " floats in " + length);
    }
    float[] vector = new float[n];
    for (int i = 0; i < n; i++) {
      vector[i] = in.readFloat();
    }
    return new UploadVector(uploadId, version, vector);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UploadVector u
        && u.uploadId.equals(uploadId)
        && u.modelVersion.equals(modelVersion)
        && java.util.Arrays.equals(u.vector, vector);
  }

  @Override
  public int hashCode() {
    return Objects.hash(uploadId, modelVersion, java.util.Arrays.hashCode(vector));
  }

  @Override
  public String toString() {
    return "UploadVector[" + uploadId + ", " + modelVersion + ", " + vector.length + "-d]";
  }
}
