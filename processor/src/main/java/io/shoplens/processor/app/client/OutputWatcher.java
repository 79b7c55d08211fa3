package io.shoplens.processor.app.client;

import io.shoplens.events.Attribute;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ProductMatch;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.StageTimings;
import io.shoplens.processor.app.config.KafkaClientConfigs;
import io.shoplens.processor.topology.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads ShopLens's outputs (captions, answers, recommendations, search results, dead letters) for
 * the command line: {@code shoplens demo} and {@code shoplens produce}. Assigns every partition
 * itself (no consumer group, nothing committed) and reads committed records only, as downstream
 * consumers of an exactly-once application must.
 */
public final class OutputWatcher implements AutoCloseable {
  private static final List<String> TOPICS =
      List.of(
          Topics.CAPTIONS,
          Topics.ANSWERS,
          Topics.RECOMMENDATIONS,
          Topics.SEARCH_RESULTS,
          Topics.DEAD_LETTERS);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final Deserializer<ImageCaptioned> captions;
  private final Deserializer<QuestionAnswered> answers;
  private final Deserializer<RecommendationsIssued> recommendations;
  private final Deserializer<ProductSearchResults> searchResults;
  private final Deserializer<DeadLetter> deadLetters;

  /** One output record. */
  public sealed interface Output {
    /** The uploadId (the record key; a search's requestId). */
    String uploadId();

    /** One line for a terminal. */
    String describe();
  }

  /** A caption (then its alternative captions, if several were asked for) with its attributes. */
  public record Caption(String uploadId, ImageCaptioned value) implements Output {
    @Override
    public String describe() {
      String attributes =
          value.getAttributes().stream()
              .map((Attribute a) -> a.getName() + "=\"" + a.getValue() + "\"")
              .collect(Collectors.joining(", "));
      return "caption  upload "
          + uploadId
          + ": \""
          + value.getCaption()
          + "\""
          + value.getAlternativeCaptions().stream()
              .map(c -> ", \"" + c + "\"")
              .collect(Collectors.joining())
          + (attributes.isEmpty() ? "" : "  attributes: " + attributes)
          + "  ("
          + timing(value.getTimings())
          + ")";
    }
  }

  /** An answer. */
  public record Answer(String uploadId, QuestionAnswered value) implements Output {
    @Override
    public String describe() {
      return "answer   question "
          + value.getQuestionId()
          + " (upload "
          + uploadId
          + (value.getConversationId() == null ? "" : ", conversation " + value.getConversationId())
          + "): \""
          + value.getAnswer()
          + "\"  ("
          + timing(value.getTimings())
          + ")"
          + related(value.getRelatedProducts());
    }

    // Null without a retrieval model: nothing to show.
    private static String related(List<ProductMatch> products) {
      if (products == null || products.isEmpty()) {
        return "";
      }
      StringBuilder out = new StringBuilder("\n           related products:");
      for (ProductMatch p : products) {
        out.append(
            String.format(
                Locale.ROOT,
                "%n             %d. %s %s (colour %s, %s)  image similarity %.3f",
                p.getRank(),
                p.getProductId(),
                p.getTitle(),
                p.getColour(),
                p.getInStock() ? "in stock" : "out of stock",
                p.getImageSimilarity() == null ? Double.NaN : p.getImageSimilarity()));
      }
      return out.toString();
    }
  }

  /** The answer to a product search (key: its requestId). */
  public record SearchResults(String uploadId, ProductSearchResults value) implements Output {
    @Override
    public String describe() {
      StringBuilder out = new StringBuilder("search   ").append(uploadId);
      if (value.getQuery() != null) {
        out.append(" \"").append(value.getQuery()).append('"');
      }
      if (value.getUploadId() != null) {
        out.append(" like upload ").append(value.getUploadId());
      }
      out.append(" (").append(value.getMode()).append(')');
      if (value.getFailureReason() != null) {
        return out.append(": not run, ")
            .append(value.getFailureReason())
            .append(": ")
            .append(value.getFailureMessage())
            .toString();
      }
      if (value.getProducts().isEmpty()) {
        out.append(": no products");
      }
      for (ProductMatch p : value.getProducts()) {
        out.append(
            String.format(
                Locale.ROOT,
                "%n           %d. %s %s (%s, colour %s, %s)  score %.3f",
                p.getRank(),
                p.getProductId(),
                p.getTitle(),
                p.getCategory(),
                p.getColour(),
                p.getInStock() ? "in stock" : "out of stock",
                p.getScore()));
      }
      return out.toString();
    }
  }

  /** Recommended catalog products for an upload. */
  public record Recommendations(String uploadId, RecommendationsIssued value) implements Output {
    @Override
    public String describe() {
      StringBuilder out =
          new StringBuilder("recommend upload ")
              .append(uploadId)
              .append(": garment ")
              .append(value.getGarmentCategory())
              .append(value.getTryOnEligible() ? ", try-on eligible" : ", not for try-on");
      if (value.getProducts().isEmpty()) {
        out.append(", no products (").append(value.getEmptyReason()).append(')');
      }
      for (RankedProduct p : value.getProducts()) {
        out.append(
            String.format(
                Locale.ROOT,
                "%n           %d. %s  score %.3f  %s",
                p.getRank(),
                p.getProductId(),
                p.getScore(),
                String.join("; ", p.getReasons())));
      }
      return out.toString();
    }
  }

  /** A record ShopLens could not process. */
  public record DeadLettered(String uploadId, DeadLetter value) implements Output {
    @Override
    public String describe() {
      return "dead letter  "
          + value.getSourceTopic()
          + " partition "
          + value.getSourcePartition()
          + " offset "
          + value.getSourceOffset()
          + " (key "
          + uploadId
          + "), stage "
          + value.getStage()
          + ": "
          + value.getErrorClass()
          + ": "
          + value.getErrorMessage();
    }
  }

  /**
   * @param clientProps bootstrap servers, security settings and serde settings (registry URL)
   * @param fromBeginning read each partition from its start; otherwise from its current end
   */
  public OutputWatcher(Map<String, Object> clientProps, boolean fromBeginning) {
    Map<String, Object> props = KafkaClientConfigs.consumer(clientProps);
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "shoplens-cli-watcher");
    consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    Topics topics = Topics.create(clientProps);
    captions = topics.captions().valueSerde().deserializer();
    answers = topics.answers().valueSerde().deserializer();
    recommendations = topics.recommendations().valueSerde().deserializer();
    searchResults = topics.searchResults().valueSerde().deserializer();
    deadLetters = topics.deadLetters().valueSerde().deserializer();
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : TOPICS) {
      consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition()))
          .forEach(partitions::add);
    }
    consumer.assign(partitions);
    if (fromBeginning) {
      consumer.seekToBeginning(partitions);
    } else {
      consumer.seekToEnd(partitions);
      // Resolve the end offsets now, before the caller produces anything.
      partitions.forEach(consumer::position);
    }
  }

  /** Outputs that arrived within {@code timeout}, in arrival order (may be empty). */
  public List<Output> poll(Duration timeout) {
    List<Output> out = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
      String key = r.key() == null ? "(none)" : new String(r.key(), StandardCharsets.UTF_8);
      switch (r.topic()) {
        case Topics.CAPTIONS ->
            out.add(new Caption(key, captions.deserialize(r.topic(), r.headers(), r.value())));
        case Topics.ANSWERS ->
            out.add(new Answer(key, answers.deserialize(r.topic(), r.headers(), r.value())));
        case Topics.RECOMMENDATIONS ->
            out.add(
                new Recommendations(
                    key, recommendations.deserialize(r.topic(), r.headers(), r.value())));
        case Topics.SEARCH_RESULTS ->
            out.add(
                new SearchResults(
                    key, searchResults.deserialize(r.topic(), r.headers(), r.value())));
        default ->
            out.add(
                new DeadLettered(key, deadLetters.deserialize(r.topic(), r.headers(), r.value())));
      }
    }
    return out;
  }

  private static String timing(StageTimings t) {
    return t.getPreprocessMs()
        + t.getVisionMs()
        + t.getPrefillMs()
        + t.getDecodeMs()
        + " ms"
        + (t.getVisionCacheHit() ? ", vision cache hit" : "");
  }

  @Override
  public void close() {
    consumer.close();
  }
}
