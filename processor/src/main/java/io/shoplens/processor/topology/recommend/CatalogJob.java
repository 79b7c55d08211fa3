package io.shoplens.processor.topology.recommend;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.shoplens.processor.topology.JsonStoreSerde;
import io.shoplens.processor.topology.Origin;
import io.shoplens.processor.topology.jobs.AsyncJob;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;

/**
 * A product whose image is being embedded, kept in the changelogged catalog in-flight store from
 * the moment its record is processed until its entry (or dead letter) is forwarded: the record as
 * read, byte for byte, so that it can be dead-lettered as it was and re-read after a restart.
 *
 * @param id the product's id (record key, and the store key), written as {@code productId}
 * @param origin the Product record as read
 * @param attempts failed tries so far that count towards {@code maxAttempts}
 */
record CatalogJob(@JsonProperty("productId") String id, Origin origin, int attempts)
    implements AsyncJob<CatalogJob> {

  @Override
  public CatalogJob withAttempts(int n) {
    return new CatalogJob(id, origin, n);
  }

  /**
   * Reads the current JSON and the one written before the job carried an {@link Origin} (the
   * record's coordinates, bytes and headers at the top level, next to {@code productId}): jobs in
   * flight in the changelog when a deployment is upgraded are re-submitted, not lost. Writing
   * always uses the current form.
   */
  @JsonCreator
  static CatalogJob fromJson(
      @JsonProperty("productId") String productId,
      @JsonProperty("origin") Origin origin,
      @JsonProperty("attempts") int attempts,
      @JsonProperty("topic") String legacyTopic,
      @JsonProperty("partition") int legacyPartition,
      @JsonProperty("offset") long legacyOffset,
      @JsonProperty("timestamp") long legacyTimestamp,
      @JsonProperty("key") byte[] legacyKey,
      @JsonProperty("value") byte[] legacyValue,
      @JsonProperty("headers") List<Origin.RawHeader> legacyHeaders) {
    Origin read =
        origin != null || legacyTopic == null
            ? origin
            : new Origin(
                legacyTopic,
                legacyPartition,
                legacyOffset,
                legacyTimestamp,
                legacyKey,
                legacyValue,
                legacyHeaders);
    return new CatalogJob(productId, read, attempts);
  }

  /** JSON serde (readable in the changelog, tolerant of added fields). */
  static Serde<CatalogJob> serde() {
    return JsonStoreSerde.of(CatalogJob.class);
  }
}
