package io.shoplens.processor.app.dataset;

import io.shoplens.events.ImageReference;
import io.shoplens.events.Product;
import io.shoplens.processor.app.config.KafkaClientConfigs;
import io.shoplens.processor.topology.Topics;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads the compacted catalog topic from the beginning up to the end offsets it had when reading
 * started: the latest value per product id wins and a tombstone deletes the product. Records that
 * do not deserialise are skipped with a line each.
 *
 * <p>Partitions are assigned, not subscribed: no consumer group is created and no offset committed,
 * so a dataset build leaves nothing behind on the cluster.
 */
public final class CatalogTopicReader {
  private CatalogTopicReader() {}

  /**
   * Reads the topic.
   *
   * @param clientProps Kafka client and serde settings (bootstrap servers, registry URL, security)
   * @param topic the catalog topic
   * @param timeout longest wait without progress before giving up
   * @param progressEvery print a progress line every this many records
   * @param out where progress is printed
   * @param skips counts unreadable records
   * @return the live products, in first-seen order
   * @throws IllegalStateException when the topic does not exist or reading stalls past {@code
   *     timeout}
   */
  public static List<CatalogProduct> read(
      Map<String, Object> clientProps,
      String topic,
      Duration timeout,
      int progressEvery,
      PrintWriter out,
      Skips skips) {
    Map<String, Object> props = KafkaClientConfigs.consumer(clientProps);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, CatalogProduct> live = new LinkedHashMap<>();
    try (Deserializer<Product> values =
            Topics.create(clientProps).catalogProducts().valueSerde().deserializer();
        KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
      if (infos == null || infos.isEmpty()) {
        throw new IllegalStateException("topic " + topic + " does not exist");
      }
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : infos) {
        partitions.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      long total = 0;
      long lastProgressAt = System.nanoTime();
      while (!reachedEnd(consumer, end)) {
        var records = consumer.poll(Duration.ofMillis(200));
        if (records.isEmpty()) {
          if (System.nanoTime() - lastProgressAt > timeout.toNanos()) {
            throw new IllegalStateException(
                "reading " + topic + " made no progress for " + timeout + "; end offsets " + end);
          }
          continue;
        }
        lastProgressAt = System.nanoTime();
        for (ConsumerRecord<byte[], byte[]> r : records) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          if (r.offset() >= end.get(tp)) {
            continue; // written after the build started: not part of this snapshot
          }
          total++;
          accept(r, values, live, skips);
          if (total % progressEvery == 0) {
            out.printf("catalog: %d records read, %d products%n", total, live.size());
          }
        }
      }
      out.printf("catalog: %d records read from %s, %d products%n", total, topic, live.size());
    }
    return new ArrayList<>(live.values());
  }

  private static boolean reachedEnd(
      KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static void accept(
      ConsumerRecord<byte[], byte[]> r,
      Deserializer<Product> values,
      Map<String, CatalogProduct> live,
      Skips skips) {
    String where = r.topic() + "-" + r.partition() + "@" + r.offset();
    if (r.key() == null) {
      skips.skip(where, Skips.UNREADABLE_ROW, "record has no key (expected the productId)");
      return;
    }
    String key = new String(r.key(), StandardCharsets.UTF_8);
    if (r.value() == null) {
      live.remove(key);
      return;
    }
    Product p;
    try {
      p = values.deserialize(r.topic(), r.headers(), r.value());
    } catch (RuntimeException e) {
      skips.skip(where, Skips.UNREADABLE_ROW, "cannot deserialise a Product: " + e.getMessage());
      return;
    }
    Map<String, String> attributes = new LinkedHashMap<>();
    p.getAttributes().forEach((k, v) -> attributes.put(k.toString(), v.toString()));
    ImageReference ref = p.getImage();
    live.remove(key);
    live.put(
        key,
        new CatalogProduct(
            where,
            p.getProductId().toString(),
            p.getTitle().toString(),
            p.getCategory().toString(),
            attributes,
            p.getInStock(),
            p.getStockQuantity(),
            ref == null ? null : new CatalogProduct.ImageSource.Reference(ref)));
  }
}
