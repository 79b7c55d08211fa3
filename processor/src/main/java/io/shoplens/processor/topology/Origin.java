package io.shoplens.processor.topology;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Where an input record came from and what it was, byte for byte: kept with every piece of state
 * that may later become a dead letter or carry lineage.
 *
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param timestamp the record's timestamp (used as the outputs' timestamp)
 * @param key the key bytes (strict UTF-8 of the string key), or null
 * @param value the value bytes as read, or null
 * @param headers the record's headers in order
 */
public record Origin(
    String topic,
    int partition,
    long offset,
    long timestamp,
    byte[] key,
    byte[] value,
    List<RawHeader> headers) {

  /** One header; {@code value} may be null. */
  public record RawHeader(String name, byte[] value) {}

  public Origin {
    headers = headers == null ? List.of() : List.copyOf(headers);
  }

  /**
   * The origin of {@code record}, the record {@code context} is processing now (its topic,
   * partition and offset come from the context).
   */
  public static Origin of(ProcessorContext<?, ?> context, Record<String, byte[]> record) {
    RecordMetadata metadata =
        context
            .recordMetadata()
            .orElseThrow(() -> new IllegalStateException("a record to process has no metadata"));
    return of(metadata, record.key(), record.value(), record.timestamp(), record.headers());
  }

  public static Origin of(
      RecordMetadata metadata, String key, byte[] value, long timestamp, Headers headers) {
    List<RawHeader> copied = new ArrayList<>();
    for (Header h : headers) {
      copied.add(new RawHeader(h.key(), h.value()));
    }
    return new Origin(
        metadata.topic(),
        metadata.partition(),
        metadata.offset(),
        timestamp,
        key == null ? null : key.getBytes(StandardCharsets.UTF_8),
        value,
        copied);
  }

  /**
   * An output made from this input: the input's timestamp, and {@link LineageHeaders} naming it.
   *
   * @param modelVersion null for dead letters
   * @param replayRunId null for the live run
   */
  public <K, V> Record<K, V> output(K key, V value, String modelVersion, String replayRunId) {
    return new Record<>(
        key,
        value,
        timestamp,
        LineageHeaders.of(topic, partition, offset, modelVersion, replayRunId));
  }

  /** "topic-partition@offset", for messages. */
  public String coordinates() {
    return topic + "-" + partition + "@" + offset;
  }
}
