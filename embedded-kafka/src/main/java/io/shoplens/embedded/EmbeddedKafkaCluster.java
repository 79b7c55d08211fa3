package io.shoplens.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.BrokerServer;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One in-process Kafka broker in KRaft mode (a single node that is both controller and broker), on
 * Kafka's own test kit ({@link KafkaClusterTestKit}), configured so that exactly-once processing
 * works on one broker: replication factor 1 and min ISR 1 for the transaction state log, the
 * offsets topic and every topic.
 *
 * <p>With {@link Config#withBrokers(int) several brokers} it is a replicated cluster instead: one
 * separate controller, and every topic, internal ones included, replicated {@link
 * #replicationFactor() min(brokers, 3)} times with {@code min.insync.replicas} one less (at least
 * 1). Brokers can then be {@link #stopBroker stopped} and {@link #startBroker started} again, so
 * that tests see leaders move.
 *
 * <p>For {@code shoplens demo} and integration tests, not for production: its data lives in a fresh
 * temporary directory that {@link #close()} deletes, and it listens on a random port on localhost
 * ({@link #bootstrapServers()}).
 *
 * <pre>{@code
 * try (EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults())) {
 *   kafka.start();
 *   kafka.createTopics("shoplens.questions.v1", 3, Map.of());
 *   ... clients with bootstrap.servers = kafka.bootstrapServers() ...
 * }
 * }</pre>
 *
 * <p>Not thread-safe: start, create topics and close from one thread.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);

  // What Kafka's storage Formatter prints to System.out while the test kit formats the node.
  private static final List<String> FORMATTER_LINES =
      List.of("Formatting ", "Bootstrap metadata: ");

  /**
   * How the broker is set up.
   *
   * @param defaultPartitions partitions of topics created without a count (auto-created ones, and
   *     {@link #createTopic(String)}); {@code num.partitions}
   * @param brokerConfigs broker properties applied after the exactly-once defaults, so they win
   * @param operationTimeout longest wait for start-up and for each topic creation
   * @param brokers how many brokers, at least 1; with 1 the node is controller and broker at once
   */
  public record Config(
      int defaultPartitions,
      Map<String, String> brokerConfigs,
      Duration operationTimeout,
      int brokers) {
    public Config {
      if (brokers < 1) {
        throw new IllegalArgumentException("brokers must be >= 1, got " + brokers);
      }
      Objects.requireNonNull(brokerConfigs, "brokerConfigs");
      Objects.requireNonNull(operationTimeout, "operationTimeout");
      if (defaultPartitions < 1) {
        throw new IllegalArgumentException(
            "defaultPartitions must be >= 1, got " + defaultPartitions);
      }
      if (operationTimeout.isNegative() || operationTimeout.isZero()) {
        throw new IllegalArgumentException(
            "operationTimeout must be positive, got " + operationTimeout);
      }
      brokerConfigs = Map.copyOf(brokerConfigs);
    }

    /** One broker, 3 partitions per topic, no extra broker properties, 60 s per operation. */
    public static Config defaults() {
      return new Config(3, Map.of(), Duration.ofSeconds(60), 1);
    }

    public Config withDefaultPartitions(int partitions) {
      return new Config(partitions, brokerConfigs, operationTimeout, brokers);
    }

    /** {@code count} brokers and a separate controller (1: one combined node). */
    public Config withBrokers(int count) {
      return new Config(defaultPartitions, brokerConfigs, operationTimeout, count);
    }

    /** These properties on top of the current ones (later ones win). */
    public Config withBrokerConfigs(Map<String, String> configs) {
      Map<String, String> merged = new LinkedHashMap<>(brokerConfigs);
      merged.putAll(configs);
      return new Config(defaultPartitions, merged, operationTimeout, brokers);
    }

    public Config withOperationTimeout(Duration timeout) {
      return new Config(defaultPartitions, brokerConfigs, timeout, brokers);
    }
  }

  private final Config config;
  private Path baseDirectory;
  private KafkaClusterTestKit cluster;
  private Admin admin;
  private Duration startTime;
  private boolean closed;

  public EmbeddedKafkaCluster(Config config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /** A broker with {@link Config#defaults()}. */
  public EmbeddedKafkaCluster() {
    this(Config.defaults());
  }

  /** Replicas of every topic: min(brokers, 3). */
  public int replicationFactor() {
    return Math.min(config.brokers(), 3);
  }

  /**
   * {@code min.insync.replicas} of every topic: one less than the replication factor, at least 1.
   */
  public int minInSyncReplicas() {
    return Math.max(1, replicationFactor() - 1);
  }

  /**
   * The broker properties this cluster starts with: the exactly-once defaults for its number of
   * brokers, then {@link Config#brokerConfigs()}.
   */
  public Map<String, String> brokerProperties() {
    Map<String, String> props = new LinkedHashMap<>();
    // Every internal topic gets the same replication as the data topics: with one broker it must
    // accept replication factor 1 and an ISR of 1, or transactional producers (exactly_once_v2)
    // and consumer groups never get going; with three, one broker may be down at any time.
    String replicas = Integer.toString(replicationFactor());
    String minIsr = Integer.toString(minInSyncReplicas());
    props.put("transaction.state.log.replication.factor", replicas);
    props.put("transaction.state.log.min.isr", minIsr);
    props.put("offsets.topic.replication.factor", replicas);
    props.put("share.coordinator.state.topic.replication.factor", replicas);
    props.put("share.coordinator.state.topic.min.isr", minIsr);
    props.put("default.replication.factor", replicas);
    props.put("min.insync.replicas", minIsr);
    // 50 partitions each (the defaults) cost seconds when the first group or transaction appears.
    props.put("transaction.state.log.num.partitions", "4");
    props.put("offsets.topic.num.partitions", "4");
    // Groups form at once instead of waiting 3 s for more members that never come.
    props.put("group.initial.rebalance.delay.ms", "0");
    props.put("num.partitions", Integer.toString(config.defaultPartitions()));
    props.putAll(config.brokerConfigs());
    return props;
  }

  /**
   * Formats a fresh temporary directory, starts the node and waits until the broker serves
   * requests. Returns this cluster, for chaining.
   *
   * @throws IllegalStateException when started twice, after close, or when start-up fails (the
   *     partly started node is closed and its directory deleted)
   */
  public EmbeddedKafkaCluster start() {
    if (closed) {
      throw new IllegalStateException("this embedded Kafka cluster was closed");
    }
    if (cluster != null) {
      throw new IllegalStateException("this embedded Kafka cluster is already started");
    }
    long begin = System.nanoTime();
    try {
      baseDirectory = Files.createTempDirectory("shoplens-kafka-");
      // Several brokers get a controller of their own, so that stopping a broker never stops the
      // quorum.
      TestKitNodes nodes =
          new TestKitNodes.Builder()
              .setCombined(config.brokers() == 1)
              .setNumBrokerNodes(config.brokers())
              .setNumControllerNodes(1)
              .setBaseDirectory(baseDirectory)
              .build();
      KafkaClusterTestKit.Builder builder =
          new KafkaClusterTestKit.Builder(nodes).setDeleteOnClose(true);
      brokerProperties().forEach(builder::setConfigProp);
      cluster = builder.build();
      try (StdoutLineFilter quiet = new StdoutLineFilter(FORMATTER_LINES, LOG::debug)) {
        cluster.format();
      }
      cluster.startup();
      waitForBroker();
      admin =
          Admin.create(
              Map.<String, Object>of(
                  CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      IllegalStateException failure =
          new IllegalStateException("embedded Kafka broker did not start: " + e, e);
      closeQuietly(failure);
      throw failure;
    }
    startTime = Duration.ofNanos(System.nanoTime() - begin);
    LOG.info(
        "Embedded Kafka {} (KRaft, {}) at {} started in {} ms, data in {}",
        AppInfoParser.getVersion(),
        config.brokers() == 1
            ? "combined controller+broker"
            : config.brokers() + " brokers, replication factor " + replicationFactor(),
        cluster.bootstrapServers(),
        startTime.toMillis(),
        baseDirectory);
    return this;
  }

  private void waitForBroker() throws Exception {
    // waitForReadyBrokers has no time-out of its own; a broker that never comes up must not hang
    // the demo or a test forever. On time-out start() closes the cluster, which ends the waiter.
    KafkaClusterTestKit starting = cluster;
    CompletableFuture<Void> ready =
        CompletableFuture.runAsync(
            () -> {
              try {
                starting.waitForReadyBrokers();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
              } catch (ExecutionException e) {
                throw new CompletionException(e.getCause());
              }
            },
            runnable -> {
              Thread t = new Thread(runnable, "embedded-kafka-wait-ready");
              t.setDaemon(true);
              t.start();
            });
    try {
      ready.get(config.operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new TimeoutException("broker not ready within " + config.operationTimeout());
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** {@code host:port} of the broker's client listener, for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return running().bootstrapServers();
  }

  /** How long {@link #start()} took (formatting, start-up, broker ready). */
  public Duration startTime() {
    if (startTime == null) {
      throw new IllegalStateException("not started");
    }
    return startTime;
  }

  /** The temporary directory with the metadata and log directories; deleted by {@link #close()}. */
  public Path dataDirectory() {
    running();
    return baseDirectory;
  }

  /** A topic with {@link Config#defaultPartitions()} partitions and the broker's defaults. */
  public void createTopic(String name) {
    createTopics(name, config.defaultPartitions(), Map.of());
  }

  /**
   * Creates a topic ({@link #replicationFactor()} replicas) and waits until the broker confirms it.
   *
   * @param name topic name
   * @param partitions number of partitions, at least 1
   * @param configs topic configs, for example {@code cleanup.policy=compact}
   * @throws IllegalStateException when the topic exists already or creation fails or times out
   */
  public void createTopics(String name, int partitions, Map<String, String> configs) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(configs, "configs");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    createTopics(
        List.of(new NewTopic(name, partitions, (short) replicationFactor()).configs(configs)));
  }

  /**
   * Creates several topics at once and waits until the controller confirms all of them and every
   * broker knows every partition's leader (a freshly created topic reaches each broker's metadata a
   * little later; a client asking that broker meanwhile would be told the topic is unknown).
   */
  public void createTopics(Collection<NewTopic> topics) {
    running();
    try {
      admin
          .createTopics(topics)
          .all()
          .get(config.operationTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics " + names(topics), e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "could not create topics " + names(topics) + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "topics " + names(topics) + " not created within " + config.operationTimeout(), e);
    }
  }

  /** The ids of the brokers (not the controller), in order. */
  public List<Integer> brokerIds() {
    return running().brokers().keySet().stream().sorted().toList();
  }

  /**
   * Shuts broker {@code id} down in an orderly way (its partitions' leadership moves to the other
   * replicas) and waits until it has stopped. Its data stays; {@link #startBroker} brings it back.
   *
   * @throws IllegalArgumentException for an unknown broker id
   */
  public void stopBroker(int id) {
    BrokerServer broker = broker(id);
    LOG.info("Embedded Kafka: stopping broker {}", id);
    broker.shutdown();
    broker.awaitShutdown();
  }

  /**
   * Starts broker {@code id} again after {@link #stopBroker} and waits until it has caught up with
   * the cluster's metadata and serves requests (its replicas then catch up on their own).
   *
   * @throws IllegalArgumentException for an unknown broker id
   */
  public void startBroker(int id) {
    BrokerServer broker = broker(id);
    LOG.info("Embedded Kafka: starting broker {}", id);
    broker.startup();
  }

  private BrokerServer broker(int id) {
    BrokerServer broker = running().brokers().get(id);
    if (broker == null) {
      throw new IllegalArgumentException(
          "no broker " + id + ", expected one of " + running().brokers().keySet());
    }
    return broker;
  }

  private static List<String> names(Collection<NewTopic> topics) {
    return topics.stream().map(NewTopic::name).toList();
  }

  private KafkaClusterTestKit running() {
    if (cluster == null || closed) {
      throw new IllegalStateException(
          closed ? "this embedded Kafka cluster was closed" : "call start() first");
    }
    return cluster;
  }

  /**
   * Stops the broker and deletes its data directory. Idempotent.
   *
   * @throws IllegalStateException when the broker or the directory could not be cleaned up (the
   *     rest of the clean-up still ran)
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    IllegalStateException failure =
        new IllegalStateException("embedded Kafka did not close cleanly");
    closeQuietly(failure);
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }

  private void closeQuietly(IllegalStateException failure) {
    if (admin != null) {
      try {
        admin.close(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
      admin = null;
    }
    if (cluster != null) {
      try {
        cluster.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure.addSuppressed(e);
      } catch (Exception e) {
        failure.addSuppressed(e);
      }
      cluster = null;
    }
    if (baseDirectory != null) {
      try {
        deleteRecursively(baseDirectory);
      } catch (IOException | UncheckedIOException e) {
        failure.addSuppressed(e);
      }
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
