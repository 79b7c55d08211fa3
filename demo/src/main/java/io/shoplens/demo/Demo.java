package io.shoplens.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Product;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.app.client.OutputWatcher;
import io.shoplens.processor.app.config.ImageSettings;
import io.shoplens.processor.app.config.KafkaClientConfigs;
import io.shoplens.processor.app.config.KafkaSettings;
import io.shoplens.processor.app.config.ModelSettings;
import io.shoplens.processor.app.config.OperationsSettings;
import io.shoplens.processor.app.config.RecommendationSettings;
import io.shoplens.processor.app.config.RegistrySettings;
import io.shoplens.processor.app.config.RetrievalSettings;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.config.TopologySettings;
import io.shoplens.processor.app.gateway.GatewayServer;
import io.shoplens.processor.app.runtime.ShopLensApplication;
import io.shoplens.processor.inference.image.ImageDigest;
import io.shoplens.processor.topology.Topics;
import io.shoplens.registry.MockSchemaRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/**
 * {@code shoplens demo}: the whole flow on one machine with nothing else running. Starts an
 * in-process KRaft broker, an in-memory ({@code mock://}) Schema Registry and ShopLens on the
 * bundled trained demo model with recommendations enabled, creates the topics, seeds a small
 * catalog of the model's held-out products (one out of stock) whose images a loopback HTTP server
 * serves, waits until it is embedded, publishes photos of other held-out products and questions
 * about them (a multi-turn conversation and one corrupt image among them), prints captions, answers
 * (beside what the catalog says), recommendations and the dead letter as they arrive, and stops.
 *
 * <p>With the bundled retrieval model (models/fashion-blip2-retrieval, in the jar when it was built
 * with it) the catalog also holds every other held-out product, two text searches run against it
 * (each printed beside the catalog's own matching products), and every answer carries its related
 * products.
 */
public final class Demo {
  /** The command that exports a real BLIP-2, printed at the end. */
  public static final String EXPORT_COMMAND =
      "scripts/setup-python && (cd model-export && .venv/bin/python -m shoplens_export export"
          + " --checkpoint Salesforce/blip2-opt-2.7b --out ../models/blip2-opt-2.7b)";

  /** The demo's catalog and shopper photos: products the trained model never saw. */
  static final DemoCatalog PRODUCTS = DemoCatalog.load();

  /**
   * The text searches the demo runs with the retrieval model, each with the attributes that make a
   * catalog product a right answer.
   */
  static final List<Search> SEARCHES =
      List.of(
          new Search("demo-search-white-sneakers", "white sneakers", "white", "sneakers"),
          new Search("demo-search-black-boots", "black boots", "black", "boots"));

  /**
   * Where the demo's HTTP servers listen unless told otherwise: this machine only. The gateway and
   * the registry take uploads and schemas without credentials.
   */
  public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";

  private final PrintWriter out;
  private final Duration timeout;
  private final int httpPort;
  private final KeptPorts keptPorts;
  private final String bindAddress;
  private final Path model; // null: the bundled demo model
  private final long started = System.nanoTime();

  /**
   * Ports of what a kept-running demo serves besides Kafka (0: any free port).
   *
   * @param registry the in-memory Schema Registry over Confluent's REST API
   * @param gateway the HTTP gateway and its page
   */
  public record KeptPorts(int registry, int gateway) {
    /** 8085 and 8081, as the README's "Try it with your own photo" uses them. */
    public static KeptPorts defaults() {
      return new KeptPorts(8085, 8081);
    }
  }

  /**
   * @param out where the demo talks to the user
   * @param timeout how long to wait for all results
   * @param httpPort port of the health and metrics endpoints (0: any free port)
   */
  public Demo(PrintWriter out, Duration timeout, int httpPort) {
    this(out, timeout, httpPort, KeptPorts.defaults());
  }

  /**
   * @param keptPorts where a kept-running demo serves its registry and its gateway
   */
  public Demo(PrintWriter out, Duration timeout, int httpPort, KeptPorts keptPorts) {
    this(out, timeout, httpPort, keptPorts, DEFAULT_BIND_ADDRESS);
  }

  /**
   * @param bindAddress where health and metrics, the registry and the gateway listen ({@link
   *     #DEFAULT_BIND_ADDRESS}, or e.g. 0.0.0.0 to reach the page from another machine)
   */
  public Demo(
      PrintWriter out, Duration timeout, int httpPort, KeptPorts keptPorts, String bindAddress) {
    this(out, timeout, httpPort, keptPorts, bindAddress, null);
  }

  /**
   * @param model a model bundle directory to run instead of the bundled demo model (any
   *     architecture the engine serves, e.g. a BLIP-2 Flan-T5 bundle), or null for the bundled one
   */
  public Demo(
      PrintWriter out,
      Duration timeout,
      int httpPort,
      KeptPorts keptPorts,
      String bindAddress,
      Path model) {
    this.out = out;
    this.timeout = timeout;
    this.httpPort = httpPort;
    this.keptPorts = keptPorts;
    this.bindAddress = bindAddress;
    this.model = model;
  }

  /**
   * The host for a URL of a server bound to {@code bindAddress}: {@code loopbackName} when it is
   * this machine's loopback or every interface, else the address itself.
   */
  static String urlHost(String bindAddress, String loopbackName) {
    return switch (bindAddress) {
      case "0.0.0.0", "::", "127.0.0.1", "::1", "localhost" -> loopbackName;
      default -> bindAddress.contains(":") ? "[" + bindAddress + "]" : bindAddress;
    };
  }

  /** What one run saw. */
  public record Result(
      boolean complete,
      int captions,
      int answers,
      int recommendations,
      int searches,
      int deadLetters,
      List<String> missing) {}

  /**
   * A text search of the demo.
   *
   * @param id its requestId
   * @param text what the shopper types
   * @param colour the colour a right product has
   * @param kind the kind (catalog category attribute) a right product has
   */
  record Search(String id, String text, String colour, String kind) {
    /** Whether the catalog says {@code item} is what the search asks for. */
    boolean fits(DemoCatalog.Item item) {
      return colour.equals(item.attributes().get("colour")) && kind.equals(item.kind());
    }
  }

  /**
   * Runs the demo.
   *
   * @param keepRunning after the samples, keep broker and ShopLens up until {@code stop} counts
   *     down (the command line's shutdown hook)
   * @param stop released to end a kept-running demo
   */
  public Result run(boolean keepRunning, CountDownLatch stop) throws Exception {
    banner();
    Path work = Files.createTempDirectory("shoplens-demo-");
    String registryScope = "shoplens-demo-" + UUID.randomUUID();
    try (EmbeddedKafkaCluster kafka = startBroker();
        DemoImageServer images = new DemoImageServer(catalogImages())) {
      // The bundled retrieval model runs beside whichever generation model: it knows the demo's
      // catalog, which is what it searches.
      Optional<Path> retrieval = DemoResources.extractRetrievalModel(work.resolve("retrieval"));
      List<DemoCatalog.Item> shelf = shelf(retrieval.isPresent());
      String bootstrap = kafka.bootstrapServers();
      say(
          "Kafka broker (in-process, KRaft) listening at "
              + bootstrap
              + " (started in "
              + kafka.startTime().toMillis()
              + " ms)");

      Path model =
          this.model != null ? this.model : DemoResources.extractModel(work.resolve("model"));
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put(KafkaSettings.BOOTSTRAP_SERVERS.name(), bootstrap);
      settings.put(RegistrySettings.SCHEMA_REGISTRY_URL.name(), "mock://" + registryScope);
      settings.put(KafkaSettings.APPLICATION_ID.name(), "shoplens-demo");
      settings.put(ModelSettings.MODEL_PATH.name(), model.toString());
      settings.put(OperationsSettings.HTTP_PORT.name(), Integer.toString(httpPort));
      settings.put(OperationsSettings.HTTP_BIND_ADDRESS.name(), bindAddress);
      settings.put(TopologySettings.STATE_STORE_TYPE.name(), "IN_MEMORY");
      settings.put(OperationsSettings.SHUTDOWN_TIMEOUT_MS.name(), "10000");
      settings.put(RecommendationSettings.RECOMMENDATIONS_ENABLED.name(), "true");
      // Every in-stock product is listed, however low its score: the demo shows the whole ranking.
      settings.put(RecommendationSettings.RECOMMENDATIONS_MIN_SCORE.name(), "-1");
      // The catalog's images come from the demo's own loopback server, over plain http.
      settings.put(ImageSettings.IMAGE_ALLOWED_HOSTS.name(), images.host());
      settings.put(ImageSettings.IMAGE_ALLOW_HTTP.name(), "true");
      settings.put(ImageSettings.IMAGE_ALLOW_PRIVATE_NETWORKS.name(), "true");
      retrieval.ifPresent(
          r -> settings.put(RetrievalSettings.RETRIEVAL_MODEL_PATH.name(), r.toString()));
      ShopLensConfig config = ShopLensConfig.validate(settings);

      List<String> compacted = new ArrayList<>(List.of(config.recommendConfig().embeddingsTopic()));
      if (retrieval.isPresent()) {
        compacted.add(config.retrievalConfig().uploadEmbeddingsTopic());
      }
      createTopics(bootstrap, compacted);
      Map<String, Object> streamsOverrides = new HashMap<>();
      streamsOverrides.put(StreamsConfig.STATE_DIR_CONFIG, work.resolve("state").toString());
      streamsOverrides.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
      streamsOverrides.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
      streamsOverrides.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);

      try (ShopLensApplication app = ShopLensApplication.start(config, streamsOverrides)) {
        say(
            "ShopLens started with model "
                + app.engine().modelVersion()
                + retrieval.map(r -> " and retrieval model " + retrievalVersion(r)).orElse("")
                + (app.httpPort() > 0
                    ? "; health and metrics at http://"
                        + urlHost(bindAddress, "localhost")
                        + ":"
                        + app.httpPort()
                        + "/metrics"
                    : ""));
        awaitRunning(app);
        Map<String, Object> clients = new HashMap<>(config.kafkaProperties());
        publishCatalog(clients, images, shelf);
        awaitCatalog(app, shelf.size());
        Result result;
        try (OutputWatcher watcher = new OutputWatcher(clients, true)) {
          result =
              publishAndWatch(
                  clients, watcher, retrieval.isPresent() ? SEARCHES : List.of(), shelf);
        }
        summary(result);
        if (keepRunning) {
          // Another process reaches the registry over REST; the gateway shares this JVM's.
          try (DemoRegistryServer registry =
                  DemoRegistryServer.start(
                      MockSchemaRegistry.getClientForScope(registryScope),
                      bindAddress,
                      keptPorts.registry());
              GatewayServer gateway =
                  GatewayServer.start(
                      config.gatewayConfig().toBuilder()
                          .port(keptPorts.gateway())
                          .bindAddress(bindAddress)
                          .build(),
                      clients)) {
            keepRunning(bootstrap, registry.url(), gateway.port(), app);
            stop.await();
          }
        }
        return result;
      }
    } finally {
      MockSchemaRegistry.dropScope(registryScope);
      deleteRecursively(work);
    }
  }

  /**
   * What the demo publishes to the catalog topic: the ten showcase products, plus every other
   * held-out product when there is a retrieval model to search them.
   */
  static List<DemoCatalog.Item> shelf(boolean retrieval) {
    List<DemoCatalog.Item> shelf = new ArrayList<>(PRODUCTS.catalog());
    if (retrieval) {
      shelf.addAll(PRODUCTS.more());
    }
    return List.copyOf(shelf);
  }

  private static EmbeddedKafkaCluster startBroker() {
    EmbeddedKafkaCluster kafka = new EmbeddedKafkaCluster(EmbeddedKafkaCluster.Config.defaults());
    try {
      return kafka.start();
    } catch (RuntimeException e) {
      kafka.close();
      throw e;
    }
  }

  private void banner() {
    out.println("ShopLens demo");
    out.println("=============");
    if (model != null) {
      out.println("An in-process Kafka broker, an in-memory Schema Registry and ShopLens running");
      out.println("the model bundle " + model + " (--model) on the demo's catalog and photos.");
      out.println();
      out.flush();
      return;
    }
    out.println(
        "An in-process Kafka broker, an in-memory Schema Registry and ShopLens running the");
    out.println(
        "bundled demo model: a small BLIP-2 OPT trained from scratch on a synthetic fashion");
    out.println(
        "catalog (models/fashion-blip2-opt). Every photo below is of a product it never saw.");
    out.println();
    out.flush();
  }

  private void createTopics(String bootstrap, List<String> compacted) throws Exception {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      TopicAdmin.create(admin, TopicAdmin.newTopics(2, Optional.of((short) 1), compacted), 30_000);
    }
    say(
        "created the ShopLens topics (2 partitions each; the catalog, "
            + String.join(", ", compacted)
            + " compacted)");
  }

  /** The retrieval bundle's model version (its manifest, which the application has verified). */
  private static String retrievalVersion(Path bundle) {
    try {
      return new ObjectMapper()
          .readTree(bundle.resolve("manifest.json").toFile())
          .path("model_version")
          .asText();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the retrieval model's manifest in " + bundle, e);
    }
  }

  private static Map<String, byte[]> catalogImages() {
    Map<String, byte[]> images = new HashMap<>();
    for (DemoCatalog.Item item : PRODUCTS.catalog()) {
      images.put(item.image(), item.imageBytes());
    }
    for (DemoCatalog.Item item : PRODUCTS.more()) {
      images.put(item.image(), item.imageBytes());
    }
    return images;
  }

  private void publishCatalog(
      Map<String, Object> clients, DemoImageServer images, List<DemoCatalog.Item> shelf)
      throws Exception {
    Topics topics = Topics.create(clients);
    Map<String, Object> producerProps = KafkaClientConfigs.producer(clients);
    try (KafkaProducer<String, Product> producer =
        new KafkaProducer<>(
            producerProps,
            Topics.keySerde().serializer(),
            topics.catalogProducts().valueSerde().serializer())) {
      for (DemoCatalog.Item item : shelf) {
        byte[] image = item.imageBytes();
        Product product =
            Product.newBuilder()
                .setProductId(item.productId())
                .setTitle(item.title())
                .setCategory(item.category())
                .setAttributes(new HashMap<>(item.attributes()))
                .setImage(
                    ImageReference.newBuilder()
                        .setUri(images.url(item.image()))
                        .setSha256(ImageDigest.sha256Hex(image))
                        .setContentType(InputEvents.contentType(item.image()))
                        .setSizeBytes(image.length)
                        .build())
                .setStockQuantity(item.stock())
                .setInStock(item.stock() > 0)
                .setUpdatedAt(Instant.now())
                .build();
        producer.send(new ProducerRecord<>(Topics.CATALOG_PRODUCTS, item.productId(), product));
        if (!PRODUCTS.catalog().contains(item)) {
          continue; // the search's extra products: summed up below, not one line each
        }
        say(
            "published catalog product "
                + item.productId()
                + ": "
                + item.title()
                + " ("
                + item.category()
                + ", image "
                + item.image()
                + (item.stock() > 0
                    ? ", " + item.stock() + " in stock)"
                    : ", OUT OF STOCK: never recommended)"));
      }
      producer.flush();
    }
    if (shelf.size() > PRODUCTS.catalog().size()) {
      say(
          "published "
              + (shelf.size() - PRODUCTS.catalog().size())
              + " more held-out catalog products for the searches (every kind, in the colours and"
              + " patterns the synthetic catalog gave them)");
    }
  }

  private void awaitCatalog(ShopLensApplication app, int products) throws InterruptedException {
    // Uploads scored before the catalog is in the global store would get CATALOG_EMPTY.
    long begin = System.nanoTime();
    long deadline = begin + timeout.toNanos();
    while (app.catalogProducts().orElse(0) < products) {
      if (System.nanoTime() > deadline || app.state() == KafkaStreams.State.ERROR) {
        throw new IllegalStateException(
            "the catalog was not embedded within "
                + timeout
                + " ("
                + app.catalogProducts().orElse(0)
                + " of "
                + products
                + " products in the store, Kafka Streams "
                + app.state()
                + ")");
      }
      Thread.sleep(50);
    }
    say(
        "catalog ready: "
            + products
            + " products embedded by the model and loaded into the global store in "
            + Duration.ofNanos(System.nanoTime() - begin).toMillis()
            + " ms");
    out.println();
  }

  private void awaitRunning(ShopLensApplication app) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (app.state() != KafkaStreams.State.RUNNING) {
      if (System.nanoTime() > deadline || app.state() == KafkaStreams.State.ERROR) {
        throw new IllegalStateException(
            "Kafka Streams did not reach RUNNING within 60 s (state " + app.state() + ")");
      }
      Thread.sleep(50);
    }
    say("Kafka Streams is RUNNING; publishing sample events");
    out.println();
  }

  private Result publishAndWatch(
      Map<String, Object> clients,
      OutputWatcher watcher,
      List<Search> searches,
      List<DemoCatalog.Item> shelf)
      throws Exception {
    Topics topics = Topics.create(clients);
    Map<String, Object> producerProps = KafkaClientConfigs.producer(clients);
    producerProps.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicAdmin.LARGE_MESSAGE_BYTES);
    try (KafkaProducer<String, ImageUploaded> uploads =
            new KafkaProducer<>(
                producerProps,
                Topics.keySerde().serializer(),
                topics.imageUploads().valueSerde().serializer());
        KafkaProducer<String, QuestionAsked> questions =
            new KafkaProducer<>(
                producerProps,
                Topics.keySerde().serializer(),
                topics.questions().valueSerde().serializer());
        KafkaProducer<String, ProductSearchRequested> searchRequests =
            new KafkaProducer<>(
                producerProps,
                Topics.keySerde().serializer(),
                topics.searchRequests().valueSerde().serializer())) {
      Set<Awaited> expected = new LinkedHashSet<>();

      Map<String, DemoCatalog.Item> photos = new LinkedHashMap<>();
      for (DemoCatalog.Item item : PRODUCTS.uploads()) {
        String uploadId = "demo-" + item.kind();
        photos.put(uploadId, item);
        upload(uploads, uploadId, item, expected);
      }
      // One bad record: bytes that are no image at all. ShopLens dead-letters it and goes on.
      byte[] corrupt = "this is not an image".getBytes(StandardCharsets.UTF_8);
      uploads
          .send(
              new ProducerRecord<>(
                  Topics.IMAGE_UPLOADS,
                  "demo-corrupt",
                  InputEvents.inlineUpload(
                      "demo-corrupt", "shopper-2", null, corrupt, "image/jpeg")))
          .get();
      say("published upload demo-corrupt: " + corrupt.length + " bytes that are not an image");
      expected.add(new Awaited(Awaited.Kind.DEAD_LETTER, "demo-corrupt"));

      Map<String, String> truths = new HashMap<>();
      ask(
          questions,
          new Question("demo-dress-q1", "demo-dress", null, "What pattern is on the dress?"),
          photos.get("demo-dress").attributes().get("pattern"),
          truths,
          expected);
      // A conversation: the follow-up is asked once the first answer is back, as a shopper would,
      // and its prompt carries the first turn.
      DemoCatalog.Item sneakers = photos.get("demo-sneakers");
      ask(
          questions,
          new Question(
              "demo-sneakers-q1", "demo-sneakers", "demo-chat", "what colour are the sneakers?"),
          sneakers.attributes().get("colour"),
          truths,
          expected);

      Map<String, String> searchTruths = new HashMap<>();
      for (Search search : searches) {
        search(searchRequests, search, shelf, searchTruths, expected);
      }

      int captions = 0;
      int answers = 0;
      int recommendations = 0;
      int searched = 0;
      int deadLetters = 0;
      boolean followUpAsked = false;
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!expected.isEmpty() && System.nanoTime() < deadline) {
        for (OutputWatcher.Output o : watcher.poll(Duration.ofMillis(100))) {
          say(o.describe() + truth(o, photos, truths) + searchTruth(o, searchTruths));
          if (o instanceof OutputWatcher.Caption c) {
            captions++;
            expected.remove(new Awaited(Awaited.Kind.CAPTION, c.uploadId()));
          } else if (o instanceof OutputWatcher.Answer a) {
            answers++;
            expected.remove(new Awaited(Awaited.Kind.ANSWER, a.value().getQuestionId()));
            if (a.value().getQuestionId().equals("demo-sneakers-q1") && !followUpAsked) {
              followUpAsked = true;
              ask(
                  questions,
                  new Question(
                      "demo-sneakers-q2",
                      "demo-sneakers",
                      "demo-chat",
                      "Are these sneakers suitable for outdoor activities?"),
                  sneakers.attributes().get("outdoor"),
                  truths,
                  expected);
            }
          } else if (o instanceof OutputWatcher.Recommendations r) {
            recommendations++;
            expected.remove(new Awaited(Awaited.Kind.RECOMMENDATIONS, r.uploadId()));
          } else if (o instanceof OutputWatcher.SearchResults r) {
            searched++;
            expected.remove(new Awaited(Awaited.Kind.SEARCH, r.uploadId()));
          } else {
            deadLetters++;
            expected.remove(new Awaited(Awaited.Kind.DEAD_LETTER, o.uploadId()));
          }
        }
      }
      return new Result(
          expected.isEmpty(),
          captions,
          answers,
          recommendations,
          searched,
          deadLetters,
          expected.stream().map(Awaited::toString).toList());
    }
  }

  /** An output the demo waits for: what kind, about which upload or question. */
  private record Awaited(Kind kind, String id) {
    enum Kind {
      CAPTION,
      ANSWER,
      RECOMMENDATIONS,
      SEARCH,
      DEAD_LETTER
    }

    @Override
    public String toString() {
      return kind.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " " + id;
    }
  }

  private void upload(
      KafkaProducer<String, ImageUploaded> producer,
      String uploadId,
      DemoCatalog.Item photo,
      Set<Awaited> expected)
      throws Exception {
    byte[] image = photo.imageBytes();
    producer
        .send(
            new ProducerRecord<>(
                Topics.IMAGE_UPLOADS,
                uploadId,
                // A shopper's own photo: no catalog product (which would be excluded).
                InputEvents.inlineUpload(
                    uploadId, "shopper-1", null, image, InputEvents.contentType(photo.image()))))
        .get();
    say(
        "published upload "
            + uploadId
            + ": a photo of held-out product "
            + photo.productId()
            + ", "
            + photo.truth()
            + " ("
            + image.length
            + " bytes, inline)");
    expected.add(new Awaited(Awaited.Kind.CAPTION, uploadId));
    expected.add(new Awaited(Awaited.Kind.RECOMMENDATIONS, uploadId));
  }

  /** A question the demo asks. */
  private record Question(String id, String uploadId, String conversationId, String text) {}

  private void ask(
      KafkaProducer<String, QuestionAsked> producer,
      Question q,
      String truth,
      Map<String, String> truths,
      Set<Awaited> expected)
      throws Exception {
    producer
        .send(
            new ProducerRecord<>(
                Topics.QUESTIONS,
                q.uploadId(),
                InputEvents.question(
                    q.id(), q.uploadId(), "shopper-1", q.conversationId(), q.text())))
        .get();
    say(
        "published question "
            + q.id()
            + " about "
            + q.uploadId()
            + (q.conversationId() == null ? "" : " (conversation " + q.conversationId() + ")")
            + ": "
            + q.text());
    truths.put(q.id(), truth);
    expected.add(new Awaited(Awaited.Kind.ANSWER, q.id()));
  }

  private void search(
      KafkaProducer<String, ProductSearchRequested> producer,
      Search search,
      List<DemoCatalog.Item> shelf,
      Map<String, String> truths,
      Set<Awaited> expected)
      throws Exception {
    producer
        .send(
            new ProducerRecord<>(
                Topics.SEARCH_REQUESTS,
                search.id(),
                ProductSearchRequested.newBuilder()
                    .setRequestId(search.id())
                    .setUserId("shopper-1")
                    .setQuery(search.text())
                    .setLimit(5)
                    .setRequestedAt(Instant.now())
                    .build()))
        .get();
    say("published search " + search.id() + ": \"" + search.text() + "\", top 5 in stock");
    List<String> fitting =
        shelf.stream()
            .filter(i -> i.stock() > 0 && search.fits(i))
            .map(DemoCatalog.Item::productId)
            .toList();
    truths.put(
        search.id(),
        fitting.size() + " " + search.colour() + " " + search.kind() + " in stock " + fitting);
    expected.add(new Awaited(Awaited.Kind.SEARCH, search.id()));
  }

  /** What the catalog holds that a search asked for, printed beside its results. */
  private static String searchTruth(OutputWatcher.Output o, Map<String, String> truths) {
    if (o instanceof OutputWatcher.SearchResults r && truths.containsKey(r.uploadId())) {
      return "\n           catalog says: " + truths.get(r.uploadId());
    }
    return "";
  }

  /** What the catalog says, printed beside the model's caption or answer. */
  private static String truth(
      OutputWatcher.Output o, Map<String, DemoCatalog.Item> photos, Map<String, String> truths) {
    if (o instanceof OutputWatcher.Caption c && photos.containsKey(c.uploadId())) {
      return "\n           catalog says: " + photos.get(c.uploadId()).truth();
    }
    if (o instanceof OutputWatcher.Answer a && truths.containsKey(a.value().getQuestionId())) {
      return "\n           catalog says: " + truths.get(a.value().getQuestionId());
    }
    return "";
  }

  private void summary(Result result) {
    out.println();
    if (result.complete()) {
      say(
          String.format(
              Locale.ROOT,
              "done: %d captions, %d answers, %d recommendation events, %d searches, %d dead"
                  + " letter(s).",
              result.captions(),
              result.answers(),
              result.recommendations(),
              result.searches(),
              result.deadLetters()));
    } else {
      say("timed out after " + timeout + "; still waiting for: " + result.missing());
    }
    out.println();
    if (model != null) {
      out.println(
          "Ran " + model + " (--model); the catalog lines show what the demo's catalog says.");
      out.flush();
      return;
    }
    out.println("The demo model knows only its synthetic catalog: ten kinds of garment in eleven");
    out.println("colours and four patterns, drawn at 96 x 96 pixels (models/fashion-blip2-opt).");
    out.println("For real photos, export BLIP-2 (about 15 GB download):");
    out.println();
    out.println("  " + EXPORT_COMMAND);
    out.println();
    out.println("then run ShopLens on it: shoplens run --config shoplens.properties with");
    out.println("  shoplens.model.path=models/blip2-opt-2.7b (see README: Running a real model).");
    out.flush();
  }

  private void keepRunning(
      String bootstrap, String registryUrl, int gatewayPort, ShopLensApplication app) {
    out.println();
    out.println("Still running (--keep-running); Ctrl-C stops the broker and ShopLens.");
    String gateway = "http://" + urlHost(bindAddress, "localhost") + ":" + gatewayPort;
    out.println("  Demo page:        " + gateway + "/");
    out.println("  HTTP API:         " + gateway + "/openapi.json (shoplens gateway)");
    out.println("  Kafka bootstrap:  " + bootstrap);
    out.println("  Schema Registry:  " + registryUrl + " (in-memory, Confluent's REST API)");
    out.println(
        "  Your own photo:   ./shoplens produce --bootstrap "
            + bootstrap
            + " --registry "
            + registryUrl
            + " --image my-photo.jpg -q \"what colour is it?\" -q \"what is it made of?\"");
    if (app.httpPort() > 0) {
      out.println(
          "  Health, metrics:  http://"
              + urlHost(bindAddress, "localhost")
              + ":"
              + app.httpPort()
              + "/health/ready, /metrics");
    }
    out.println("  Plain Kafka tools can read the topics, e.g.");
    out.println(
        "    kafka-console-consumer.sh --bootstrap-server "
            + bootstrap
            + " --topic "
            + Topics.CAPTIONS
            + " --from-beginning");
    out.println(
        "  Catalog products (Avro Product, key productId) go to "
            + Topics.CATALOG_PRODUCTS
            + "; recommendations come out on "
            + Topics.RECOMMENDATIONS
            + ".");
    out.flush();
  }

  private void say(String line) {
    double seconds = (System.nanoTime() - started) / 1e9;
    out.printf(Locale.ROOT, "[%5.1fs] %s%n", seconds, line);
    out.flush();
  }

  private static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temp directory left behind is not worth failing the demo for.
    }
  }
}
