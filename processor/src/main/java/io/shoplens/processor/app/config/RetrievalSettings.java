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

/**
 * The retrieval and search group: which retrieval bundle (if any), and how searches and related
 * products use it. Defaults are {@link RetrievalConfig#defaults()}'s; {@code enabled} is whether a
 * model path is set.
 */
public final class RetrievalSettings {
  static final SettingGroup SETTINGS = new SettingGroup("Retrieval and search");

  // First: the defaults below read it during class initialisation.
  private static final RetrievalConfig DEFAULTS = RetrievalConfig.defaults();

  // Empty: no retrieval model, today's behaviour (generation embeddings for recommendations).
  public static final Setting RETRIEVAL_MODEL_PATH =
      SETTINGS
          .define("shoplens.retrieval.model.path", "", null)
          .importance(Importance.MEDIUM)
          .doc(
              "Directory of a retrieval bundle (architecture blip2-retrieval: vision/text/itm.onnx,"
                  + " tokenizer.json), loaded once at start. When set: the catalog is embedded with its"
                  + " image features and recommendations compare those, uploads' pooled features are"
                  + " published on the upload embeddings topic, "
                  + Topics.SEARCH_REQUESTS
                  + " is answered on "
                  + Topics.SEARCH_RESULTS
                  + ", and answers carry related products. Needs the catalog topics as recommendations"
                  + " do. Empty: none of that.");

  public static final Setting RETRIEVAL_THREADS =
      SETTINGS
          .define("shoplens.retrieval.threads", 2, Range.between(1, 256))
          .doc("Retrieval graph calls (one image or one text each) run at once.");

  public static final Setting RETRIEVAL_CACHE_SIZE =
      SETTINGS
          .define("shoplens.retrieval.cache.size", 256, Range.atLeast(0))
          .doc(
              "Images whose retrieval features are kept (by sha256), so that the answers about an upload"
                  + " reuse its caption job's features; 0 disables the cache.");

  public static final Setting RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC =
      SETTINGS
          .define(
              "shoplens.retrieval.upload.embeddings.topic",
              DEFAULTS.uploadEmbeddingsTopic(),
              new ConfigDef.NonEmptyString())
          .importance(Importance.MEDIUM)
          .doc(
              "Topic (key uploadId) of every upload's pooled retrieval image feature, read in full by"
                  + " every instance so that a search can use any upload. Create it before starting.");

  public static final Setting RETRIEVAL_RELATED_PRODUCTS =
      SETTINGS
          .define(
              "shoplens.retrieval.related.products",
              DEFAULTS.relatedProducts(),
              Range.between(0, 100))
          .doc(
              "Most related products in an answer (QuestionAnswered.relatedProducts: products of the"
                  + " category of the catalog product closest to the photo, by image similarity); 0 leaves"
                  + " them out.");

  public static final Setting SEARCH_MAX_QUERY_CHARS =
      SETTINGS
          .define(
              "shoplens.search.max.query.chars", DEFAULTS.maxQueryChars(), Range.between(1, 10_000))
          .doc("Longer search texts are answered with failureReason QUERY_TOO_LONG.");

  public static final Setting SEARCH_MAX_LIMIT =
      SETTINGS
          .define("shoplens.search.max.limit", DEFAULTS.maxLimit(), Range.between(1, 1000))
          .doc(
              "Most products a search may ask for; a larger limit is answered with INVALID_LIMIT.");

  public static final Setting SEARCH_MAX_IN_FLIGHT =
      SETTINGS
          .define("shoplens.search.max.inflight", DEFAULTS.searchMaxInFlight(), Range.atLeast(1))
          .doc("Searches whose text is being embedded at once per search-requests partition.");

  private RetrievalSettings() {}

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
              RETRIEVAL_MODEL_PATH.name(), "a retrieval bundle directory", model));
    } else if (!Files.isRegularFile(model.resolve("manifest.json"))) {
      problems.add(
          RETRIEVAL_MODEL_PATH.name()
              + ": "
              + model.toAbsolutePath()
              + " has no manifest.json (export one with model-export --retrieval first)");
    }
  }

  /** The retrieval bundle directory, or empty when none is configured. */
  static Optional<Path> modelPath(ShopLensConfig c) {
    String path = c.getString(RETRIEVAL_MODEL_PATH.name()).trim();
    return path.isEmpty() ? Optional.empty() : Optional.of(Path.of(path));
  }

  /** The topology's retrieval settings; enabled exactly when a model path is set. */
  static RetrievalConfig retrievalConfig(ShopLensConfig c) {
    return RetrievalConfig.builder()
        .enabled(modelPath(c).isPresent())
        .uploadEmbeddingsTopic(c.getString(RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC.name()).trim())
        .relatedProducts(c.getInt(RETRIEVAL_RELATED_PRODUCTS.name()))
        .maxQueryChars(c.getInt(SEARCH_MAX_QUERY_CHARS.name()))
        .maxLimit(c.getInt(SEARCH_MAX_LIMIT.name()))
        .searchMaxInFlight(c.getInt(SEARCH_MAX_IN_FLIGHT.name()))
        .build();
  }
}
