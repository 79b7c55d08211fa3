package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Product;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.UploadEmbedding;
import io.shoplens.serde.SpecificAvroSerde;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;

/**
 * Every ShopLens topic, typed. Keys are strings (uploadId, productId for the catalog, requestId for
 * searches) encoded as strict UTF-8; values are Avro records in the Confluent wire format, read
 * into their generated classes with the Schema Registry named in the serde configuration ({@code
 * schema.registry.url}; {@code mock://<scope>} in tests and the demo).
 *
 * <p>Names are {@code shoplens.<name>.v1} (the README's "Events" table); a breaking schema change
 * makes a new topic version, not an edit here.
 *
 * @param searchRequests searches by text and/or upload (key = requestId)
 * @param searchResults the answer to each search (key = requestId)
 * @param serdeConfig the Avro serde settings every topic's value serde was configured with
 */
public record Topics(
    Topic<String, ImageUploaded> imageUploads,
    Topic<String, QuestionAsked> questions,
    Topic<String, ImageCaptioned> captions,
    Topic<String, QuestionAnswered> answers,
    Topic<String, RecommendationsIssued> recommendations,
    Topic<String, Product> catalogProducts,
    Topic<String, ProductSearchRequested> searchRequests,
    Topic<String, ProductSearchResults> searchResults,
    Topic<String, DeadLetter> deadLetters,
    Map<String, ?> serdeConfig) {
  public static final String IMAGE_UPLOADS = "shoplens.image-uploads.v1";
  public static final String QUESTIONS = "shoplens.questions.v1";
  public static final String CAPTIONS = "shoplens.captions.v1";
  public static final String ANSWERS = "shoplens.answers.v1";
  public static final String RECOMMENDATIONS = "shoplens.recommendations.v1";
  public static final String CATALOG_PRODUCTS = "shoplens.catalog.products.v1";
  public static final String SEARCH_REQUESTS = "shoplens.search-requests.v1";
  public static final String SEARCH_RESULTS = "shoplens.search-results.v1";
  public static final String DEAD_LETTERS = "shoplens.dead-letters.v1";

  /**
   * Creates the topics with serdes configured from {@code serdeConfig}.
   *
   * @param serdeConfig Avro serde settings (see {@code io.shoplens.serde.KafkaAvroSerDeConfig}); at
   *     least {@code schema.registry.url}
   * @throws org.apache.kafka.common.config.ConfigException when a setting is invalid
   */
  public static Topics create(Map<String, ?> serdeConfig) {
    Objects.requireNonNull(serdeConfig, "serdeConfig");
    return new Topics(
        topic(IMAGE_UPLOADS, ImageUploaded.class, serdeConfig),
        topic(QUESTIONS, QuestionAsked.class, serdeConfig),
        topic(CAPTIONS, ImageCaptioned.class, serdeConfig),
        topic(ANSWERS, QuestionAnswered.class, serdeConfig),
        topic(RECOMMENDATIONS, RecommendationsIssued.class, serdeConfig),
        topic(CATALOG_PRODUCTS, Product.class, serdeConfig),
        topic(SEARCH_REQUESTS, ProductSearchRequested.class, serdeConfig),
        topic(SEARCH_RESULTS, ProductSearchResults.class, serdeConfig),
        topic(DEAD_LETTERS, DeadLetter.class, serdeConfig),
        serdeConfig);
  }

  /** The serde ShopLens uses for every record key: UTF-8, refusing malformed bytes on read. */
  public static Serde<String> keySerde() {
    return new Utf8KeySerde();
  }

  /**
   * The uploads' retrieval image features (key = uploadId, compacted), under its configured name
   * ({@code shoplens.retrieval.upload.embeddings.topic}, default {@code
   * shoplens.upload-embeddings.v1}).
   */
  public Topic<String, UploadEmbedding> uploadEmbeddings(String name) {
    return topic(name, UploadEmbedding.class, serdeConfig);
  }

  /** All topics, inputs first. */
  public List<Topic<String, ?>> all() {
    return List.of(
        imageUploads,
        questions,
        catalogProducts,
        searchRequests,
        captions,
        answers,
        recommendations,
        searchResults,
        deadLetters);
  }

  /** The topic names only: the serde settings may carry registry credentials. */
  @Override
  public String toString() {
    return "Topics" + all();
  }

  private static <V extends SpecificRecord> Topic<String, V> topic(
      String name, Class<V> type, Map<String, ?> serdeConfig) {
    SpecificAvroSerde<V> values = new SpecificAvroSerde<>(type);
    values.configure(serdeConfig, false);
    return new Topic<>(name, keySerde(), values);
  }
}
