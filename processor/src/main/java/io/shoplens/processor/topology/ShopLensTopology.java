package io.shoplens.processor.topology;

import static io.shoplens.processor.topology.SealedRoutes.branch;
import static io.shoplens.processor.topology.SealedRoutes.to;

import io.shoplens.events.UploadEmbedding;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import io.shoplens.processor.topology.InferenceOutput.Answered;
import io.shoplens.processor.topology.InferenceOutput.Captioned;
import io.shoplens.processor.topology.InferenceOutput.DeadLettered;
import io.shoplens.processor.topology.InferenceOutput.Recommended;
import io.shoplens.processor.topology.InferenceOutput.UploadEmbedded;
import io.shoplens.processor.topology.jobs.InFlightLimiter;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import io.shoplens.processor.topology.recommend.Recommender;
import io.shoplens.processor.topology.search.SearchTopology;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.BranchedKStream;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;

/**
 * The ShopLens Kafka Streams topology.
 *
 * <pre>
 * image-uploads ─┐                                    ┌─ captions
 *                ├─ intake ─┬─ inference (async) ─────┼─ answers
 * questions ─────┘          │                         └─ dead-letters
 *                           └─ (refused) ───────────────── dead-letters
 * </pre>
 *
 * <p>Intake validates, keeps uploads, and joins questions to their uploads (waiting, bounded, for
 * uploads that come late); inference runs outside the stream thread with results forwarded by a
 * punctuator (see {@link io.shoplens.processor.topology.jobs.AsyncJobs} for the exactly-once
 * protocol). Records that cannot be read are dead-lettered by {@link
 * DeadLetterDeserializationHandler}, configured through {@link #streamsConfig}.
 *
 * <p>State stores, all changelogged: {@value #UPLOADS_STORE}, {@value #WAITING_QUESTIONS_STORE},
 * {@value #CONVERSATIONS_STORE}, {@value #IN_FLIGHT_STORE}, {@value #EXPIRY_STORE}.
 *
 * <p>With {@code recommendations.enabled}, each upload's caption job also embeds the image and a
 * {@code RecommendationsIssued} goes to {@value Topics#RECOMMENDATIONS} after its caption, scored
 * against a catalog embedded from {@value Topics#CATALOG_PRODUCTS} into a global store (see {@link
 * RecommendTopology}).
 *
 * <p>With a retrieval model ({@code retrieval.enabled}), the catalog is embedded with its image
 * features, every caption job also publishes the upload's pooled feature on the upload-embeddings
 * topic, answers carry related products, and {@value Topics#SEARCH_REQUESTS} is answered on {@value
 * Topics#SEARCH_RESULTS} (see {@link SearchTopology}).
 */
public final class ShopLensTopology {
  /** Uploads by uploadId, kept {@code uploadRetention} for the questions about them. */
  public static final String UPLOADS_STORE = "shoplens-uploads";

  /** Questions waiting for their upload, by uploadId and offset. */
  public static final String WAITING_QUESTIONS_STORE = "shoplens-waiting-questions";

  /** Earlier turns by uploadId and conversationId. */
  public static final String CONVERSATIONS_STORE = "shoplens-conversations";

  /** Jobs accepted but whose result is not yet forwarded. */
  public static final String IN_FLIGHT_STORE = "shoplens-in-flight";

  /** Expiry index: keys start with the zero-padded expiry time. */
  public static final String EXPIRY_STORE = "shoplens-expiry";

  private ShopLensTopology() {}

  /**
   * Adds the ShopLens topology to {@code builder}. Pure: creates serdes and processors, does no I/O
   * and loads no model (the engine and resolver are only called once the topology runs).
   *
   * @param builder the builder to add to
   * @param config topology settings
   * @param engine the inference engine shared by all tasks of this instance
   * @param resolver turns upload images into bytes
   * @return the topics used, with their serdes
   */
  public static Topics build(
      StreamsBuilder builder,
      ShopLensTopologyConfig config,
      InferenceEngine engine,
      ImageResolver resolver) {
    return build(builder, config, engine, null, resolver);
  }

  /**
   * As {@link #build(StreamsBuilder, ShopLensTopologyConfig, InferenceEngine, ImageResolver)}, with
   * a retrieval model.
   *
   * @param retrieval the retrieval model shared by all tasks; given exactly when {@code
   *     config.retrieval().enabled()}
   * @throws IllegalArgumentException when {@code retrieval} and the configuration disagree
   */
  public static Topics build(
      StreamsBuilder builder,
      ShopLensTopologyConfig config,
      InferenceEngine engine,
      RetrievalEngine retrieval,
      ImageResolver resolver) {
    Objects.requireNonNull(builder, "builder");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(resolver, "resolver");
    if ((retrieval != null) != config.retrieval().enabled()) {
      throw new IllegalArgumentException(
          "retrieval.enabled is "
              + config.retrieval().enabled()
              + " but a retrieval model was "
              + (retrieval == null ? "not given" : "given"));
    }
    Topics topics = Topics.create(config.serdeConfig());
    TopologyWiring wiring = new TopologyWiring(builder, config, topics);
    InferenceServices services = new InferenceServices(engine, retrieval, resolver);
    InFlightLimiter limiter = new InFlightLimiter(config.maxInFlightRequests());
    CatalogIndex catalog = null;
    Recommender recommender = null;
    if (config.catalogNeeded()) {
      catalog =
          new CatalogIndex(
              config.recommendations().vocabulary(),
              config.recommendations().vectorIndex(),
              retrieval == null ? 0 : retrieval.embedDim());
      RecommendTopology.addCatalog(wiring, services, catalog);
      if (config.recommendations().enabled()) {
        recommender = new Recommender(config.recommendations(), catalog);
      }
    }
    if (retrieval != null) {
      SearchTopology.add(wiring, retrieval, catalog);
    }
    Recommender recommending = recommender;
    CatalogIndex related = retrieval == null ? null : catalog;

    wiring.addStore(UPLOADS_STORE, JsonStoreSerde.of(StoredState.StoredUpload.class));
    wiring.addStore(WAITING_QUESTIONS_STORE, JsonStoreSerde.of(StoredState.WaitingQuestion.class));
    wiring.addStore(CONVERSATIONS_STORE, JsonStoreSerde.of(StoredState.Conversation.class));
    wiring.addStore(IN_FLIGHT_STORE, JsonStoreSerde.of(InferenceJob.class));
    wiring.addStore(EXPIRY_STORE, ExpiryKey.serde(), Serdes.String());

    KStream<String, ValueWithBytes> uploads =
        withBytes(builder, topics.imageUploads(), "image-uploads");
    KStream<String, ValueWithBytes> questions = withBytes(builder, topics.questions(), "questions");

    KStream<String, IntakeDecision> decisions =
        uploads
            .merge(questions, Named.as("inputs"))
            .process(
                () -> new IntakeProcessor(config, topics),
                Named.as("intake"),
                UPLOADS_STORE,
                WAITING_QUESTIONS_STORE,
                CONVERSATIONS_STORE,
                EXPIRY_STORE);

    BranchedKStream<String, IntakeDecision> intake = decisions.split(Named.as("intake-"));
    branch(
        intake,
        IntakeDecision.Reject.class,
        IntakeDecision.Reject::deadLetter,
        "refused",
        refused -> refused.to(topics.deadLetters().name(), topics.deadLetters().produced()));
    if (config.retrieval().enabled()) {
      Topic<String, UploadEmbedding> uploadEmbeddings =
          topics.uploadEmbeddings(config.retrieval().uploadEmbeddingsTopic());
      branch(
          intake,
          IntakeDecision.ForgetUploadFeatures.class,
          forget -> (UploadEmbedding) null, // a tombstone
          "expired-upload-features",
          to(uploadEmbeddings));
    }
    branch(
        intake,
        IntakeDecision.Submit.class,
        IntakeDecision.Submit::job,
        "accepted",
        accepted ->
            route(
                accepted.process(
                    () ->
                        new InferenceProcessor(
                            config, topics, services, limiter, recommending, related),
                    Named.as("inference"),
                    IN_FLIGHT_STORE,
                    UPLOADS_STORE,
                    CONVERSATIONS_STORE,
                    EXPIRY_STORE),
                topics,
                config));
    intake.noDefaultBranch();
    return topics;
  }

  /** Each case of the inference output goes to its own topic. */
  private static void route(
      KStream<String, InferenceOutput> outputs, Topics topics, ShopLensTopologyConfig config) {
    BranchedKStream<String, InferenceOutput> split = outputs.split(Named.as("output-"));
    branch(split, Captioned.class, Captioned::event, "captions", to(topics.captions()));
    branch(
        split,
        Recommended.class,
        Recommended::event,
        "recommendations",
        to(topics.recommendations()));
    branch(split, Answered.class, Answered::event, "answers", to(topics.answers()));
    if (config.retrieval().enabled()) {
      branch(
          split,
          UploadEmbedded.class,
          UploadEmbedded::event,
          "upload-embeddings",
          to(topics.uploadEmbeddings(config.retrieval().uploadEmbeddingsTopic())));
    }
    branch(
        split, DeadLettered.class, DeadLettered::letter, "dead-letters", to(topics.deadLetters()));
    split.noDefaultBranch();
  }

  /** An input read as its value and the bytes it was read from (for dead letters and lineage). */
  private static KStream<String, ValueWithBytes> withBytes(
      StreamsBuilder builder, Topic<String, ? extends SpecificRecord> topic, String name) {
    return builder.stream(
        topic.name(),
        Consumed.with(Topics.keySerde(), ValueWithBytes.serde(topic.valueSerde())).withName(name));
  }

  /**
   * Streams settings the topology relies on: exactly-once (v2) processing, the dead-letter
   * deserialization handler on {@value Topics#DEAD_LETTERS}, and one memory budget for all RocksDB
   * stores ({@link BoundedRocksDbMemory}). Merge them under the application's own settings (which
   * must also carry the Avro serde settings, for the handler).
   */
  public static Map<String, Object> streamsConfig() {
    return Map.of(
        StreamsConfig.PROCESSING_GUARANTEE_CONFIG,
        StreamsConfig.EXACTLY_ONCE_V2,
        StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterDeserializationHandler.class.getName(),
        StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG,
        Topics.DEAD_LETTERS,
        StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG,
        BoundedRocksDbMemory.class.getName());
  }
}
