package io.shoplens.processor.app.admin;

import io.shoplens.processor.topology.Topics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates ShopLens's topics with the settings they need.
 *
 * <ul>
 *   <li>{@value Topics#IMAGE_UPLOADS} and {@value Topics#DEAD_LETTERS}: {@code max.message.bytes}
 *       of 2 MiB, because uploads carry inline images (up to {@code
 *       shoplens.image.inline.max.bytes}) and dead letters carry the failed record's bytes.
 *   <li>{@value Topics#CATALOG_PRODUCTS}: compacted (the latest record per product is the catalog).
 *   <li>with recommendations, the embeddings topic ({@code
 *       shoplens.recommendations.embeddings.topic}): compacted, because every instance reads it in
 *       full into its global catalog store on every start, and only the latest embedding per
 *       product matters. Kafka Streams does not create it: it is a global store's source, which
 *       Streams treats as user input.
 *   <li>the rest: the broker's defaults.
 * </ul>
 *
 * Internal topics (changelogs, repartitions) are created by Kafka Streams itself.
 */
public final class TopicAdmin {

  /** {@code max.message.bytes} for topics that carry image bytes: 2 MiB. */
  public static final int LARGE_MESSAGE_BYTES = 2 * 1024 * 1024;

  private TopicAdmin() {}

  /** What happened to one topic. */
  public record Outcome(String topic, boolean created, String detail) {}

  /**
   * The topics to create.
   *
   * @param partitions partitions of every topic (uploads and questions must match: they are
   *     co-partitioned by uploadId)
   * @param replicationFactor replicas, or empty for the broker's default
   */
  public static List<NewTopic> newTopics(int partitions, Optional<Short> replicationFactor) {
    return newTopics(partitions, replicationFactor, List.of());
  }

  /**
   * The topics to create, with extra compacted topics: the recommendations' embeddings topic when
   * recommendations or retrieval are on, the upload-embeddings topic with retrieval.
   *
   * @param partitions partitions of every topic (uploads and questions must match: they are
   *     co-partitioned by uploadId; the compacted extras may have any number)
   * @param replicationFactor replicas, or empty for the broker's default
   * @param compactedTopics extra topics, created compacted (keyed tables read in full by every
   *     instance)
   */
  public static List<NewTopic> newTopics(
      int partitions, Optional<Short> replicationFactor, List<String> compactedTopics) {
    List<String> names =
        new ArrayList<>(
            List.of(
                Topics.IMAGE_UPLOADS,
                Topics.QUESTIONS,
                Topics.CATALOG_PRODUCTS,
                Topics.CAPTIONS,
                Topics.ANSWERS,
                Topics.RECOMMENDATIONS,
                Topics.SEARCH_REQUESTS,
                Topics.SEARCH_RESULTS,
                Topics.DEAD_LETTERS));
    compactedTopics.stream().filter(t -> !names.contains(t)).forEach(names::add);
    List<NewTopic> topics = new ArrayList<>();
    for (String name : names) {
      Map<String, String> configs = new LinkedHashMap<>();
      if (name.equals(Topics.IMAGE_UPLOADS) || name.equals(Topics.DEAD_LETTERS)) {
        configs.put(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(LARGE_MESSAGE_BYTES));
      }
      if (name.equals(Topics.CATALOG_PRODUCTS) || compactedTopics.contains(name)) {
        configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
      }
      topics.add(new NewTopic(name, Optional.of(partitions), replicationFactor).configs(configs));
    }
    return topics;
  }

  /**
   * The topics of {@code names} that do not exist on the cluster, in the given order.
   *
   * @throws TimeoutException if the cluster does not answer in time
   * @throws ExecutionException for any other failure (not authorized ...)
   */
  public static List<String> missing(Admin admin, List<String> names, long timeoutMs)
      throws InterruptedException, ExecutionException, TimeoutException {
    var futures = admin.describeTopics(names).topicNameValues();
    List<String> missing = new ArrayList<>();
    for (String name : names) {
      if (!succeeded(futures.get(name), timeoutMs, UnknownTopicOrPartitionException.class)) {
        missing.add(name);
      }
    }
    return missing;
  }

  /**
   * Creates the topics; ones that exist already are reported, not changed.
   *
   * @param admin a connected admin client
   * @param topics from {@link #newTopics}
   * @param timeoutMs how long to wait for the cluster
   * @return one outcome per topic, in order
   * @throws TimeoutException if the cluster does not answer in time
   * @throws ExecutionException for any other failure (not authorized, invalid settings ...)
   */
  public static List<Outcome> create(Admin admin, List<NewTopic> topics, long timeoutMs)
      throws InterruptedException, ExecutionException, TimeoutException {
    var futures = admin.createTopics(topics).values();
    List<Outcome> outcomes = new ArrayList<>();
    for (NewTopic topic : topics) {
      if (succeeded(futures.get(topic.name()), timeoutMs, TopicExistsException.class)) {
        outcomes.add(
            new Outcome(
                topic.name(),
                true,
                "created: "
                    + topic.numPartitions()
                    + " partitions, replication "
                    + (topic.replicationFactor() < 0 ? "broker default" : topic.replicationFactor())
                    + (topic.configs().isEmpty() ? "" : ", " + topic.configs())));
      } else {
        outcomes.add(new Outcome(topic.name(), false, "exists already (left unchanged)"));
      }
    }
    return outcomes;
  }

  /**
   * Waits for one topic's answer: true when it succeeded, false when it failed with {@code
   * expected} (the answer the caller reports rather than fails on).
   *
   * @throws ExecutionException for any other failure
   */
  private static boolean succeeded(
      KafkaFuture<?> answer, long timeoutMs, Class<? extends Exception> expected)
      throws InterruptedException, ExecutionException, TimeoutException {
    try {
      answer.get(timeoutMs, TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException e) {
      if (expected.isInstance(e.getCause())) {
        return false;
      }
      throw e;
    }
  }
}
