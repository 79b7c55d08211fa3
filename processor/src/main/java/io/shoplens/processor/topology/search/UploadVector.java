package io.shoplens.processor.topology.search;

import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.UploadEmbedding;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An upload's pooled retrieval image feature (the L2-normalised mean of its query vectors), as a
 * search compares it: read from the {@link UploadEmbedding} event that the upload-embeddings topic
 * (key uploadId) carries and every instance keeps in a global store, so that a search on any
 * instance can use any upload's image.
 *
 * @param uploadId the upload (record key)
 * @param modelVersion the retrieval model version of the feature
 * @param vector the pooled feature, a unit vector
 */
public record UploadVector(String uploadId, String modelVersion, float[] vector) {

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

  /** The feature an {@link UploadEmbedding} event carries. */
  public static UploadVector of(UploadEmbedding event) {
    List<Float> values = event.getVector();
    float[] vector = new float[values.size()];
    for (int i = 0; i < vector.length; i++) {
      vector[i] = values.get(i);
    }
    return new UploadVector(event.getUploadId(), event.getModel().getModelVersion(), vector);
  }

  /**
   * The event that publishes {@code upload}'s feature.
   *
   * @param modelId the retrieval model's id
   * @param lineage the upload record the feature was computed from
   */
  public UploadEmbedding event(
      ImageUploaded upload, String modelId, Lineage lineage, Instant embeddedAt) {
    List<Float> values = new ArrayList<>(vector.length);
    for (float f : vector) {
      values.add(f);
    }
    return UploadEmbedding.newBuilder()
        .setUploadId(uploadId)
        .setUserId(upload.getUserId())
        .setDimensions(vector.length)
        .setVector(values)
        .setModel(ModelInfo.newBuilder().setModelId(modelId).setModelVersion(modelVersion).build())
        .setLineage(lineage)
        .setEmbeddedAt(embeddedAt)
        .build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof UploadVector u
        && u.uploadId.equals(uploadId)
        && u.modelVersion.equals(modelVersion)
        && Arrays.equals(u.vector, vector);
  }

  @Override
  public int hashCode() {
    return Objects.hash(uploadId, modelVersion, Arrays.hashCode(vector));
  }

  @Override
  public String toString() {
    return "UploadVector[" + uploadId + ", " + modelVersion + ", " + vector.length + "-d]";
  }
}
