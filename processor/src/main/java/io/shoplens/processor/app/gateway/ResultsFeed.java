package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.Product;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.app.config.KafkaClientConfigs;
import io.shoplens.processor.topology.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the {@link ResultsView} and the {@link SearchView} from Kafka on its own thread. It assigns
 * itself every partition of the uploads, questions, catalog and output topics (no consumer group,
 * nothing committed), so that every gateway instance sees every upload's results and any instance
 * behind a load balancer can serve any client. On start it seeks each partition to the records of
 * the last view TTL, so a restarted instance serves recent uploads too (the compacted catalog it
 * reads whole). It reads committed records only, as consumers of an exactly-once application must.
 * Upload values are never decoded: the key (the uploadId) is all the view needs, and the value may
 * be a large image.
 */
final class ResultsFeed implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResultsFeed.class);
  private static final List<String> REQUIRED =
      List.of(
          Topics.IMAGE_UPLOADS,
          Topics.QUESTIONS,
          Topics.CAPTIONS,
          Topics.ANSWERS,
          Topics.DEAD_LETTERS);
  // Present only where recommendations are on; read when they exist at start.
  private static final List<String> OPTIONAL =
      List.of(Topics.CATALOG_PRODUCTS, Topics.RECOMMENDATIONS);

  private final KafkaConsumer<byte[], byte[]> consumer;
  private final ResultsView view;
  private final SearchView searches;
  private final Clock clock;
  private final Duration ttl;
  private final Deserializer<QuestionAsked> questions;
  private final Deserializer<Product> products;
  private final Deserializer<ImageCaptioned> captions;
  private final Deserializer<QuestionAnswered> answers;
  private final Deserializer<RecommendationsIssued> recommendations;
  private final Deserializer<DeadLetter> deadLetters;
  private final Deserializer<ProductSearchResults> searchResults;
  private final Thread thread;
  private volatile boolean assigned;
  private volatile boolean searchable;
  private volatile boolean running = true;
  private final CountDownLatch closing = new CountDownLatch(1);

  ResultsFeed(
      Map<String, Object> clientProps,
      Topics topics,
      ResultsView view,
      SearchView searches,
      Clock clock,
      Duration ttl) {
    Map<String, Object> props = new HashMap<>(KafkaClientConfigs.consumer(clientProps));
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "shoplens-gateway-feed");
    // Asking for a topic's partitions must not create it.
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    this.consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    this.view = view;
    this.searches = searches;
    this.clock = clock;
    this.ttl = ttl;
    this.questions = topics.questions().valueSerde().deserializer();
    this.products = topics.catalogProducts().valueSerde().deserializer();
    this.captions = topics.captions().valueSerde().deserializer();
    this.answers = topics.answers().valueSerde().deserializer();
    this.recommendations = topics.recommendations().valueSerde().deserializer();
    this.deadLetters = topics.deadLetters().valueSerde().deserializer();
    this.searchResults = topics.searchResults().valueSerde().deserializer();
    this.thread = new Thread(this::run, "shoplens-gateway-feed");
    thread.setDaemon(true);
  }

  KafkaConsumer<byte[], byte[]> consumer() {
    return consumer;
  }

  void start() {
    thread.start();
  }

  /** Live: the feed thread has not stopped (before start, and while it waits for topics, too). */
  boolean alive() {
    return running && (thread.isAlive() || thread.getState() == Thread.State.NEW);
  }

  /** Whether every topic's partitions are assigned, so the view is being fed. */
  boolean assigned() {
    return assigned && thread.isAlive();
  }

  /**
   * Whether searches can be served: both search topics existed when the feed assigned itself, and
   * it reads the results topic. (They exist where ShopLens runs with a retrieval model.)
   */
  boolean searchable() {
    return searchable && assigned();
  }

  private void run() {
    try {
      assign();
      while (running) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          try {
            apply(r);
          } catch (RuntimeException e) {
            // One unreadable record must not stop the view; ShopLens dead-letters its own inputs.
            LOG.warn(
                "gateway view skips {}-{}@{}: {}",
                r.topic(),
                r.partition(),
                r.offset(),
                e.getMessage());
          }
        }
      }
    } catch (WakeupException e) {
      if (running) {
        throw e;
      }
    } catch (RuntimeException e) {
      LOG.error("gateway view feed stopped", e);
    } finally {
      consumer.close();
    }
  }

  private void assign() {
    List<TopicPartition> partitions = new ArrayList<>();
    while (running) {
      partitions.clear();
      String missing = null;
      for (String topic : REQUIRED) {
        List<TopicPartition> found = partitionsOf(topic);
        if (found.isEmpty()) {
          missing = topic;
          break;
        }
        partitions.addAll(found);
      }
      if (missing == null) {
        OPTIONAL.forEach(topic -> partitions.addAll(partitionsOf(topic)));
        // Searches need both topics: the gateway publishes requests and reads results.
        List<TopicPartition> results = partitionsOf(Topics.SEARCH_RESULTS);
        if (!results.isEmpty() && !partitionsOf(Topics.SEARCH_REQUESTS).isEmpty()) {
          partitions.addAll(results);
          searchable = true;
        }
        break;
      }
      LOG.info("gateway waits for topic {} to exist", missing);
      // (Not consumer.poll: with nothing assigned it throws.) close() releases the wait.
      try {
        if (closing.await(1, TimeUnit.SECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    if (!running) {
      return;
    }
    consumer.assign(partitions);
    long since = clock.millis() - ttl.toMillis();
    Map<TopicPartition, Long> times = new HashMap<>();
    partitions.forEach(p -> times.put(p, since));
    Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(times);
    List<TopicPartition> toEnd = new ArrayList<>();
    offsets.forEach(
        (p, o) -> {
          if (p.topic().equals(Topics.CATALOG_PRODUCTS)) {
            // Compacted: the whole catalog, so that recommendation cards have titles and stock.
            consumer.seekToBeginning(List.of(p));
          } else if (o == null) {
            toEnd.add(p);
          } else {
            consumer.seek(p, o.offset());
          }
        });
    consumer.seekToEnd(toEnd);
    toEnd.forEach(consumer::position);
    assigned = true;
    LOG.info(
        "gateway view reads {} partitions of {}",
        partitions.size(),
        partitions.stream().map(TopicPartition::topic).distinct().toList());
  }

  private List<TopicPartition> partitionsOf(String topic) {
    List<PartitionInfo> infos;
    try {
      infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
    } catch (TimeoutException e) {
      return List.of(); // a slow or absent cluster: try again
    }
    return infos == null
        ? List.of()
        : infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
  }

  private void apply(ConsumerRecord<byte[], byte[]> r) {
    if (r.key() == null) {
      return;
    }
    // The key is the uploadId, except on the catalog topic (productId) and the search results
    // (requestId).
    String uploadId = new String(r.key(), StandardCharsets.UTF_8);
    switch (r.topic()) {
      case Topics.IMAGE_UPLOADS -> view.uploadAccepted(uploadId);
      case Topics.CATALOG_PRODUCTS -> {
        Product p =
            r.value() == null ? null : products.deserialize(r.topic(), r.headers(), r.value());
        view.product(uploadId, p == null ? null : AvroJson.record(p));
      }
      case Topics.QUESTIONS -> {
        QuestionAsked q = questions.deserialize(r.topic(), r.headers(), r.value());
        view.questionAsked(q.getQuestionId(), uploadId, q.getText());
      }
      case Topics.CAPTIONS ->
          view.captioned(
              uploadId, AvroJson.record(captions.deserialize(r.topic(), r.headers(), r.value())));
      case Topics.ANSWERS -> {
        QuestionAnswered a = answers.deserialize(r.topic(), r.headers(), r.value());
        view.answered(uploadId, a.getQuestionId(), AvroJson.record(a));
      }
      case Topics.SEARCH_RESULTS -> {
        // Keyed by requestId, not uploadId.
        ObjectNode results =
            AvroJson.record(searchResults.deserialize(r.topic(), r.headers(), r.value()));
        view.addProductCards(results);
        searches.answered(uploadId, results);
      }
      case Topics.RECOMMENDATIONS ->
          view.recommended(
              uploadId,
              AvroJson.record(recommendations.deserialize(r.topic(), r.headers(), r.value())));
      default ->
          view.deadLettered(
              uploadId,
              AvroJson.record(deadLetters.deserialize(r.topic(), r.headers(), r.value())));
    }
  }

  @Override
  public void close() {
    running = false;
    closing.countDown();
    consumer.wakeup();
    try {
      thread.join(Duration.ofSeconds(10).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
