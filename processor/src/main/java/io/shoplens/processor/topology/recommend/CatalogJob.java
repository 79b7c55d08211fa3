package io.shoplens.processor.topology.recommend;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * A product whose image is being embedded, kept in the changelogged catalog in-flight store from
 * the moment its record is processed until its entry (or dead letter) is forwarded: the record as
 * read, byte for byte, so that it can be dead-lettered as it was and re-read after a restart.
 *
 * @param productId the product (record key, and the store key)
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param timestamp the record's timestamp
 * @param key key bytes
 * @param value value bytes (the Product as read)
 * @param headers the record's headers
 * @param attempts failed tries so far that count towards {@code maxAttempts}
 */
record CatalogJob(
    String productId,
    String topic,
    int partition,
    long offset,
    long timestamp,
    byte[] key,
    byte[] value,
    List<JobHeader> headers,
    int attempts) {

  /** One header; {@code value} may be null. */
  record JobHeader(String name, byte[] value) {}

  CatalogJob {
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  CatalogJob withAttempts(int n) {
    return new CatalogJob(productId, topic, partition, offset, timestamp, key, value, headers, n);
  }

  String coordinates() {
    return topic + "-" + partition + "@" + offset;
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** JSON serde (readable in the changelog, tolerant of added fields). */
  static Serde<CatalogJob> serde() {
    return Serdes.serdeFrom(
        (topic, job) -> {
          if (job == null) {
            return null;
          }
          try {
            return JSON.writeValueAsBytes(job);
          } catch (IOException e) {
            throw new SerializationException("cannot write catalog job " + job.productId(), e);
          }
        },
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.readValue(data, CatalogJob.class);
          } catch (IOException e) {
            throw new SerializationException(
                "cannot read a catalog job from " + data.length + " bytes", e);
          }
        });
  }
}
