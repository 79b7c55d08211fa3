package io.shoplens.processor.app.config;

import io.shoplens.events.GarmentCategory;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.VectorIndex;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The recommendations group: whether to recommend, how to score, and where the embedded catalog
 * lives. Defaults are {@link RecommendConfig#defaults()}'s.
 */
public final class RecommendationSettings {
  public static final String GROUP = "Recommendations";

  // First: the defaults below read it during class initialisation.
  private static final RecommendConfig DEFAULTS = RecommendConfig.defaults();

  private static final String[] PRECISIONS =
      Arrays.stream(VectorIndex.Precision.values()).map(Enum::name).toArray(String[]::new);

  private static final List<String> GARMENT_CATEGORIES =
      Arrays.stream(GarmentCategory.values()).map(Enum::name).toList();

  public static final String RECOMMENDATIONS_ENABLED_CONFIG = "shoplens.recommendations.enabled";
  // Off by default: enabling needs the catalog topic (fed by a catalog connector) and the compacted
  // embeddings topic to exist before start, which `shoplens run` does not create.
  public static final boolean RECOMMENDATIONS_ENABLED_DEFAULT = DEFAULTS.enabled();
  public static final String RECOMMENDATIONS_ENABLED_DOC =
      "Recommend catalog products for every upload (RecommendationsIssued on "
          + Topics.RECOMMENDATIONS
          + "). Needs "
          + Topics.CATALOG_PRODUCTS
          + " and the embeddings topic to exist (shoplens topics create --recommendations makes"
          + " both, compacted); ShopLens refuses to start without them.";

  public static final String RECOMMENDATIONS_TOP_K_CONFIG = "shoplens.recommendations.top.k";
  public static final int RECOMMENDATIONS_TOP_K_DEFAULT = DEFAULTS.topK();
  public static final String RECOMMENDATIONS_TOP_K_DOC = "Most products per recommendation event.";

  public static final String RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG =
      "shoplens.recommendations.attribute.weight";
  public static final double RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DEFAULT = DEFAULTS.attributeWeight();
  public static final String RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DOC =
      "Weight of attribute agreement (share of the upload's normalised attributes the product"
          + " shares) in score = attribute.weight * agreement + embedding.weight * cosine.";

  public static final String RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG =
      "shoplens.recommendations.embedding.weight";
  public static final double RECOMMENDATIONS_EMBEDDING_WEIGHT_DEFAULT = DEFAULTS.embeddingWeight();
  public static final String RECOMMENDATIONS_EMBEDDING_WEIGHT_DOC =
      "Weight of the image embeddings' cosine similarity in the score; the two weights may not"
          + " both be 0.";

  public static final String RECOMMENDATIONS_MIN_SCORE_CONFIG =
      "shoplens.recommendations.min.score";
  public static final double RECOMMENDATIONS_MIN_SCORE_DEFAULT = DEFAULTS.minScore();
  public static final String RECOMMENDATIONS_MIN_SCORE_DOC =
      "Products scoring below are not recommended.";

  public static final String RECOMMENDATIONS_VOCABULARY_FILE_CONFIG =
      "shoplens.recommendations.vocabulary.file";
  // Empty stands for the built-in vocabulary, which is RecommendConfig's default.
  public static final String RECOMMENDATIONS_VOCABULARY_FILE_DEFAULT = "";
  public static final String RECOMMENDATIONS_VOCABULARY_FILE_DOC =
      "Attribute vocabulary file (synonyms, canonical values, garment categories; format in"
          + " README: Recommendations). Empty: the built-in clothing vocabulary.";

  public static final String RECOMMENDATIONS_TRYON_CATEGORIES_CONFIG =
      "shoplens.recommendations.tryon.categories";
  public static final String RECOMMENDATIONS_TRYON_CATEGORIES_DEFAULT =
      String.join(",", DEFAULTS.tryOnCategories().stream().map(Enum::name).sorted().toList());
  public static final String RECOMMENDATIONS_TRYON_CATEGORIES_DOC =
      "Garment categories the virtual try-on service renders (comma-separated, of "
          + GARMENT_CATEGORIES
          + "); an upload of one is tryOnEligible. Empty: none is.";

  public static final String RECOMMENDATIONS_EMBEDDINGS_TOPIC_CONFIG =
      "shoplens.recommendations.embeddings.topic";
  public static final String RECOMMENDATIONS_EMBEDDINGS_TOPIC_DEFAULT = DEFAULTS.embeddingsTopic();
  public static final String RECOMMENDATIONS_EMBEDDINGS_TOPIC_DOC =
      "Compacted topic of the embedded catalog, read in full by every instance. Create it before"
          + " starting; use one per model version (a replay with another model needs its own).";

  public static final String RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_CONFIG =
      "shoplens.recommendations.catalog.max.inflight";
  public static final int RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DEFAULT =
      DEFAULTS.catalogMaxInFlight();
  public static final String RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DOC =
      "Product images being embedded at once per catalog partition, so that loading a catalog"
          + " does not crowd uploads out of the engine's queue.";

  public static final String RECOMMENDATIONS_INDEX_M_CONFIG = "shoplens.recommendations.index.m";
  public static final int RECOMMENDATIONS_INDEX_M_DEFAULT = DEFAULTS.vectorIndex().maxConnections();
  public static final String RECOMMENDATIONS_INDEX_M_DOC =
      "Catalog vector index (Lucene HNSW): graph degree M. Higher raises recall at large catalogs"
          + " and costs build time and 8 bytes a product per step (README: Recommendations at"
          + " scale).";

  public static final String RECOMMENDATIONS_INDEX_BEAM_WIDTH_CONFIG =
      "shoplens.recommendations.index.beam.width";
  public static final int RECOMMENDATIONS_INDEX_BEAM_WIDTH_DEFAULT =
      DEFAULTS.vectorIndex().beamWidth();
  public static final String RECOMMENDATIONS_INDEX_BEAM_WIDTH_DOC =
      "Catalog vector index: HNSW construction beam. Higher builds a better graph (recall) in"
          + " proportionally more CPU while the catalog is indexed and restored.";

  public static final String RECOMMENDATIONS_INDEX_CANDIDATES_CONFIG =
      "shoplens.recommendations.index.candidates";
  public static final int RECOMMENDATIONS_INDEX_CANDIDATES_DEFAULT =
      DEFAULTS.vectorIndex().candidates();
  public static final String RECOMMENDATIONS_INDEX_CANDIDATES_DOC =
      "Catalog vector index: nearest pooled vectors fetched per search and re-ranked exactly;"
          + " more raises recall and query latency.";

  public static final String RECOMMENDATIONS_INDEX_PRECISION_CONFIG =
      "shoplens.recommendations.index.precision";
  public static final String RECOMMENDATIONS_INDEX_PRECISION_DEFAULT =
      DEFAULTS.vectorIndex().precision().name();
  public static final String RECOMMENDATIONS_INDEX_PRECISION_DOC =
      "How the catalog keeps a product's vectors for exact re-ranking when it has several (a"
          + " retrieval model's 32 query vectors): FLOAT32, or INT8 (a quarter of the memory;"
          + " recall measured in README: Recommendations at scale).";

  // Kafka's Range compares numbers but lets NaN and infinities through.
  private static final ConfigDef.Validator FINITE =
      finiteAtLeast(Double.NEGATIVE_INFINITY, "must be a finite number", "a finite number");

  private static final ConfigDef.Validator FINITE_NON_NEGATIVE =
      finiteAtLeast(0, "must be a finite number >= 0", "[0,...]");

  private static final ConfigDef.Validator GARMENT_CATEGORY_LIST =
      ConfigDef.LambdaValidator.with(
          (name, value) -> {
            if (value instanceof List<?> list) {
              for (Object item : list) {
                String category = String.valueOf(item).trim();
                if (!category.isEmpty()
                    && !GARMENT_CATEGORIES.contains(category.toUpperCase(Locale.ROOT))) {
                  throw new ConfigException(
                      name,
                      value,
                      "unknown garment category '" + category + "'; expected " + anyCategory());
                }
              }
            }
          },
          RecommendationSettings::anyCategory);

  private RecommendationSettings() {}

  /** A double at least {@code min} that is not NaN or infinite; {@code shown} in the reference. */
  private static ConfigDef.Validator finiteAtLeast(double min, String rule, String shown) {
    return ConfigDef.LambdaValidator.with(
        (name, value) -> {
          if (value instanceof Double d && !(Double.isFinite(d) && d >= min)) {
            throw new ConfigException(name, value, rule);
          }
        },
        () -> shown);
  }

  private static String anyCategory() {
    return "any of " + String.join(", ", GARMENT_CATEGORIES);
  }

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            RECOMMENDATIONS_ENABLED_CONFIG,
            Type.BOOLEAN,
            RECOMMENDATIONS_ENABLED_DEFAULT,
            null,
            Importance.MEDIUM,
            RECOMMENDATIONS_ENABLED_DOC)
        .define(
            RECOMMENDATIONS_TOP_K_CONFIG,
            Type.INT,
            RECOMMENDATIONS_TOP_K_DEFAULT,
            Range.between(1, 1000),
            Importance.MEDIUM,
            RECOMMENDATIONS_TOP_K_DOC)
        .define(
            RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG,
            Type.DOUBLE,
            RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DEFAULT,
            FINITE_NON_NEGATIVE,
            Importance.MEDIUM,
            RECOMMENDATIONS_ATTRIBUTE_WEIGHT_DOC)
        .define(
            RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG,
            Type.DOUBLE,
            RECOMMENDATIONS_EMBEDDING_WEIGHT_DEFAULT,
            FINITE_NON_NEGATIVE,
            Importance.MEDIUM,
            RECOMMENDATIONS_EMBEDDING_WEIGHT_DOC)
        .define(
            RECOMMENDATIONS_MIN_SCORE_CONFIG,
            Type.DOUBLE,
            RECOMMENDATIONS_MIN_SCORE_DEFAULT,
            FINITE,
            Importance.LOW,
            RECOMMENDATIONS_MIN_SCORE_DOC)
        .define(
            RECOMMENDATIONS_VOCABULARY_FILE_CONFIG,
            Type.STRING,
            RECOMMENDATIONS_VOCABULARY_FILE_DEFAULT,
            null,
            Importance.LOW,
            RECOMMENDATIONS_VOCABULARY_FILE_DOC)
        .define(
            RECOMMENDATIONS_TRYON_CATEGORIES_CONFIG,
            Type.LIST,
            RECOMMENDATIONS_TRYON_CATEGORIES_DEFAULT,
            GARMENT_CATEGORY_LIST,
            Importance.LOW,
            RECOMMENDATIONS_TRYON_CATEGORIES_DOC)
        .define(
            RECOMMENDATIONS_EMBEDDINGS_TOPIC_CONFIG,
            Type.STRING,
            RECOMMENDATIONS_EMBEDDINGS_TOPIC_DEFAULT,
            new ConfigDef.NonEmptyString(),
            Importance.MEDIUM,
            RECOMMENDATIONS_EMBEDDINGS_TOPIC_DOC)
        .define(
            RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_CONFIG,
            Type.INT,
            RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_DOC)
        .define(
            RECOMMENDATIONS_INDEX_M_CONFIG,
            Type.INT,
            RECOMMENDATIONS_INDEX_M_DEFAULT,
            Range.between(2, 512),
            Importance.LOW,
            RECOMMENDATIONS_INDEX_M_DOC)
        .define(
            RECOMMENDATIONS_INDEX_BEAM_WIDTH_CONFIG,
            Type.INT,
            RECOMMENDATIONS_INDEX_BEAM_WIDTH_DEFAULT,
            Range.between(2, 3200),
            Importance.LOW,
            RECOMMENDATIONS_INDEX_BEAM_WIDTH_DOC)
        .define(
            RECOMMENDATIONS_INDEX_CANDIDATES_CONFIG,
            Type.INT,
            RECOMMENDATIONS_INDEX_CANDIDATES_DEFAULT,
            Range.between(1, 10_000),
            Importance.LOW,
            RECOMMENDATIONS_INDEX_CANDIDATES_DOC)
        .define(
            RECOMMENDATIONS_INDEX_PRECISION_CONFIG,
            Type.STRING,
            RECOMMENDATIONS_INDEX_PRECISION_DEFAULT,
            ConfigDef.CaseInsensitiveValidString.in(PRECISIONS),
            Importance.LOW,
            RECOMMENDATIONS_INDEX_PRECISION_DOC);
  }

  /**
   * Checks the weights together and the vocabulary file, then the record's own rules.
   *
   * @return whether the recommendation settings are valid
   */
  static boolean check(ShopLensConfig c, List<String> problems) {
    int before = problems.size();
    if (c.getDouble(RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG) == 0
        && c.getDouble(RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG) == 0) {
      problems.add(
          RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG
              + " and "
              + RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG
              + ": must not both be 0 (every product would score 0)");
    }
    String vocabularyFile = c.getString(RECOMMENDATIONS_VOCABULARY_FILE_CONFIG).trim();
    if (!vocabularyFile.isEmpty()) {
      Path file = Path.of(vocabularyFile);
      if (!Files.isRegularFile(file)) {
        problems.add(
            PathProblems.expectedAt(
                RECOMMENDATIONS_VOCABULARY_FILE_CONFIG, "a vocabulary file", file));
      } else {
        try {
          AttributeVocabulary.load(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
          problems.add(RECOMMENDATIONS_VOCABULARY_FILE_CONFIG + ": " + e.getMessage());
        }
      }
    }
    if (problems.size() == before) {
      try {
        recommendConfig(c);
      } catch (IllegalArgumentException e) {
        problems.add("recommendation settings: " + e.getMessage());
      }
    }
    return problems.size() == before;
  }

  /**
   * The recommendation settings. The vocabulary file is read here, when set (even with
   * recommendations off, so that a broken file is reported before someone turns them on).
   *
   * @throws IllegalArgumentException for settings that do not fit together, or a malformed
   *     vocabulary file (naming its line)
   * @throws UncheckedIOException when the vocabulary file cannot be read
   */
  static RecommendConfig recommendConfig(ShopLensConfig c) {
    Set<GarmentCategory> tryOn = EnumSet.noneOf(GarmentCategory.class);
    for (String category : c.getList(RECOMMENDATIONS_TRYON_CATEGORIES_CONFIG)) {
      if (!category.isBlank()) {
        tryOn.add(GarmentCategory.valueOf(category.trim().toUpperCase(Locale.ROOT)));
      }
    }
    RecommendConfig.Builder b =
        RecommendConfig.builder()
            .enabled(c.getBoolean(RECOMMENDATIONS_ENABLED_CONFIG))
            .topK(c.getInt(RECOMMENDATIONS_TOP_K_CONFIG))
            .attributeWeight(c.getDouble(RECOMMENDATIONS_ATTRIBUTE_WEIGHT_CONFIG))
            .embeddingWeight(c.getDouble(RECOMMENDATIONS_EMBEDDING_WEIGHT_CONFIG))
            .minScore(c.getDouble(RECOMMENDATIONS_MIN_SCORE_CONFIG))
            .tryOnCategories(tryOn)
            .embeddingsTopic(c.getString(RECOMMENDATIONS_EMBEDDINGS_TOPIC_CONFIG).trim())
            .catalogMaxInFlight(c.getInt(RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT_CONFIG))
            .vectorIndex(
                new VectorIndex.Options(
                    c.getInt(RECOMMENDATIONS_INDEX_M_CONFIG),
                    c.getInt(RECOMMENDATIONS_INDEX_BEAM_WIDTH_CONFIG),
                    c.getInt(RECOMMENDATIONS_INDEX_CANDIDATES_CONFIG),
                    DEFAULTS.vectorIndex().rerank(),
                    VectorIndex.Precision.valueOf(
                        c.getString(RECOMMENDATIONS_INDEX_PRECISION_CONFIG)
                            .trim()
                            .toUpperCase(Locale.ROOT))));
    String vocabularyFile = c.getString(RECOMMENDATIONS_VOCABULARY_FILE_CONFIG).trim();
    if (!vocabularyFile.isEmpty()) {
      b.vocabulary(AttributeVocabulary.load(Path.of(vocabularyFile)));
    }
    return b.build();
  }
}
