package io.shoplens.processor.app.config;

import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.search.RetrievalConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The retrieval and search group: which retrieval bundle (if any), and how searches and related
 * products use it. Defaults are {@link RetrievalConfig#defaults()}'s; {@code enabled} is whether a
 * model path is set.
 */
public final class RetrievalSettings {
  public static final String GROUP = "Retrieval and search";

  // First: the defaults below read it during class initialisation.
  private static final RetrievalConfig DEFAULTS = RetrievalConfig.defaults();

  public static final String RETRIEVAL_MODEL_PATH_CONFIG = "shoplens.retrieval.model.path";
  // Empty: no retrieval model, today's behaviour (generation embeddings for recommendations).
  public static final String RETRIEVAL_MODEL_PATH_DEFAULT = "";
  public static final String RETRIEVAL_MODEL_PATH_DOC =
      "Directory of a retrieval bundle (architecture blip2-retrieval: vision/text/itm.onnx,"
          + " tokenizer.json), loaded once at start. When set: the catalog is embedded with its"
          + " image features and recommendations compare those, uploads' pooled features are"
          + " published on the upload embeddings topic, "
          + Topics.SEARCH_REQUESTS
          + " is answered on "
          + Topics.SEARCH_RESULTS
          + ", and answers carry related products. Needs the catalog topics as recommendations"
          + " do. Empty: none of that.";

  public static final String RETRIEVAL_THREADS_CONFIG = "shoplens.retrieval.threads";
  public static final int RETRIEVAL_THREADS_DEFAULT = 2;
  public static final String RETRIEVAL_THREADS_DOC =
      "Retrieval graph calls (one image or one text each) run at once.";

  public static final String RETRIEVAL_CACHE_SIZE_CONFIG = "shoplens.retrieval.cache.size";
  public static final int RETRIEVAL_CACHE_SIZE_DEFAULT = 256;
  public static final String RETRIEVAL_CACHE_SIZE_DOC =
      "Images whose retrieval features are kept (by sha256), so that the answers about an upload"
          + " reuse its caption job's features; 0 disables the cache.";

  public static final String RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_CONFIG =
      "shoplens.retrieval.upload.embeddings.topic";
  public static final String RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_DEFAULT =
      DEFAULTS.uploadEmbeddingsTopic();
  public static final String RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_DOC =
      "Topic (key uploadId) of every upload's pooled retrieval image feature, read in full by"
          + " every instance so that a search can use any upload. Create it before starting.";

  public static final String RETRIEVAL_RELATED_PRODUCTS_CONFIG =
      "shoplens.retrieval.related.products";
  public static final int RETRIEVAL_RELATED_PRODUCTS_DEFAULT = DEFAULTS.relatedProducts();
  public static final String RETRIEVAL_RELATED_PRODUCTS_DOC =
      "Most related products in an answer (QuestionAnswered.relatedProducts: products of the"
          + " category of the catalog product closest to the photo, by image similarity); 0 leaves"
          + " them out.";

  public static final String SEARCH_MAX_QUERY_CHARS_CONFIG = "shoplens.search.max.query.chars";
  public static final int SEARCH_MAX_QUERY_CHARS_DEFAULT = DEFAULTS.maxQueryChars();
  public static final String SEARCH_MAX_QUERY_CHARS_DOC =
      "Longer search texts are answered with failureReason QUERY_TOO_LONG.";

  public static final String SEARCH_MAX_LIMIT_CONFIG = "shoplens.search.max.limit";
  public static final int SEARCH_MAX_LIMIT_DEFAULT = DEFAULTS.maxLimit();
  public static final String SEARCH_MAX_LIMIT_DOC =
      "Most products a search may ask for; a larger limit is answered with INVALID_LIMIT.";

  public static final String SEARCH_MAX_IN_FLIGHT_CONFIG = "shoplens.search.max.inflight";
  public static final int SEARCH_MAX_IN_FLIGHT_DEFAULT = DEFAULTS.searchMaxInFlight();
  public static final String SEARCH_MAX_IN_FLIGHT_DOC =
      "Searches whose text is being embedded at once per search-requests partition.";

  private RetrievalSettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            RETRIEVAL_MODEL_PATH_CONFIG,
            Type.STRING,
            RETRIEVAL_MODEL_PATH_DEFAULT,
            null,
            Importance.MEDIUM,
            RETRIEVAL_MODEL_PATH_DOC)
        .define(
            RETRIEVAL_THREADS_CONFIG,
            Type.INT,
            RETRIEVAL_THREADS_DEFAULT,
            Range.between(1, 256),
            Importance.LOW,
            RETRIEVAL_THREADS_DOC)
        .define(
            RETRIEVAL_CACHE_SIZE_CONFIG,
            Type.INT,
            RETRIEVAL_CACHE_SIZE_DEFAULT,
            Range.atLeast(0),
            Importance.LOW,
            RETRIEVAL_CACHE_SIZE_DOC)
        .define(
            RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_CONFIG,
            Type.STRING,
            RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_DEFAULT,
            new ConfigDef.NonEmptyString(),
            Importance.MEDIUM,
            RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_DOC)
        .define(
            RETRIEVAL_RELATED_PRODUCTS_CONFIG,
            Type.INT,
            RETRIEVAL_RELATED_PRODUCTS_DEFAULT,
            Range.between(0, 100),
            Importance.LOW,
            RETRIEVAL_RELATED_PRODUCTS_DOC)
        .define(
            SEARCH_MAX_QUERY_CHARS_CONFIG,
            Type.INT,
            SEARCH_MAX_QUERY_CHARS_DEFAULT,
            Range.between(1, 10_000),
            Importance.LOW,
            SEARCH_MAX_QUERY_CHARS_DOC)
        .define(
            SEARCH_MAX_LIMIT_CONFIG,
            Type.INT,
            SEARCH_MAX_LIMIT_DEFAULT,
            Range.between(1, 1000),
            Importance.LOW,
            SEARCH_MAX_LIMIT_DOC)
        .define(
            SEARCH_MAX_IN_FLIGHT_CONFIG,
            Type.INT,
            SEARCH_MAX_IN_FLIGHT_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            SEARCH_MAX_IN_FLIGHT_DOC);
  }

  /** Checks that a configured retrieval bundle directory is there, with a manifest. */
  static void check(ShopLensConfig c, List<String> problems) {
    Optional<Path> path = modelPath(c);
    if (path.isEmpty()) {
      return;
    }
    Path model = path.get();
    if (!Files.isDirectory(model)) {
      problems.add(
          PathProblems.expectedAt(
              RETRIEVAL_MODEL_PATH_CONFIG, "a retrieval bundle directory", model));
    } else if (!Files.isRegularFile(model.resolve("manifest.json"))) {
      problems.add(
          RETRIEVAL_MODEL_PATH_CONFIG
              + ": "
              + model.toAbsolutePath()
              + " has no manifest.json (export one with model-export --retrieval first)");
    }
  }

  /** The retrieval bundle directory, or empty when none is configured. */
  static Optional<Path> modelPath(ShopLensConfig c) {
    String path = c.getString(RETRIEVAL_MODEL_PATH_CONFIG).trim();
    return path.isEmpty() ? Optional.empty() : Optional.of(Path.of(path));
  }

  /** The topology's retrieval settings; enabled exactly when a model path is set. */
  static RetrievalConfig retrievalConfig(ShopLensConfig c) {
    return RetrievalConfig.builder()
        .enabled(modelPath(c).isPresent())
        .uploadEmbeddingsTopic(c.getString(RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC_CONFIG).trim())
        .relatedProducts(c.getInt(RETRIEVAL_RELATED_PRODUCTS_CONFIG))
        .maxQueryChars(c.getInt(SEARCH_MAX_QUERY_CHARS_CONFIG))
        .maxLimit(c.getInt(SEARCH_MAX_LIMIT_CONFIG))
        .searchMaxInFlight(c.getInt(SEARCH_MAX_IN_FLIGHT_CONFIG))
        .build();
  }
}
