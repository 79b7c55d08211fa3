package io.shoplens.processor.app.config;

import io.shoplens.events.GarmentCategory;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.RecommendConfigBuilder;
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
import org.apache.kafka.common.config.ConfigException;

/**
 * The recommendations group: whether to recommend, how to score, and where the embedded catalog
 * lives. Defaults are {@link RecommendConfig#defaults()}'s.
 */
public final class RecommendationSettings {
  static final SettingGroup SETTINGS = new SettingGroup("Recommendations");

  // First: the defaults below read it during class initialisation.
  private static final RecommendConfig DEFAULTS = RecommendConfig.defaults();

  private static final List<String> GARMENT_CATEGORIES =
      Arrays.stream(GarmentCategory.values()).map(Enum::name).toList();

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

  // Off by default: enabling needs the catalog topic (fed by a catalog connector) and the compacted
  // embeddings topic to exist before start, which `shoplens run` does not create.
  public static final Setting RECOMMENDATIONS_ENABLED =
      SETTINGS
          .define("shoplens.recommendations.enabled", DEFAULTS.enabled())
          .importance(Importance.MEDIUM)
          .doc(
              "Recommend catalog products for every upload (RecommendationsIssued on "
                  + Topics.RECOMMENDATIONS
                  + "). Needs "
                  + Topics.CATALOG_PRODUCTS
                  + " and the embeddings topic to exist (shoplens topics create --recommendations makes"
                  + " both, compacted); ShopLens refuses to start without them.");

  public static final Setting RECOMMENDATIONS_TOP_K =
      SETTINGS
          .define("shoplens.recommendations.top.k", DEFAULTS.topK(), Range.between(1, 1000))
          .importance(Importance.MEDIUM)
          .doc("Most products per recommendation event.");

  public static final Setting RECOMMENDATIONS_ATTRIBUTE_WEIGHT =
      SETTINGS
          .define(
              "shoplens.recommendations.attribute.weight",
              DEFAULTS.attributeWeight(),
              FINITE_NON_NEGATIVE)
          .importance(Importance.MEDIUM)
          .doc(
              "Weight of attribute agreement (share of the upload's normalised attributes the product"
                  + " shares) in score = attribute.weight * agreement + embedding.weight * cosine.");

  public static final Setting RECOMMENDATIONS_EMBEDDING_WEIGHT =
      SETTINGS
          .define(
              "shoplens.recommendations.embedding.weight",
              DEFAULTS.embeddingWeight(),
              FINITE_NON_NEGATIVE)
          .importance(Importance.MEDIUM)
          .doc(
              "Weight of the image embeddings' cosine similarity in the score; the two weights may not"
                  + " both be 0.");

  public static final Setting RECOMMENDATIONS_MIN_SCORE =
      SETTINGS
          .define("shoplens.recommendations.min.score", DEFAULTS.minScore(), FINITE)
          .doc("Products scoring below are not recommended.");

  // Empty stands for the built-in vocabulary, which is RecommendConfig's default.
  public static final Setting RECOMMENDATIONS_VOCABULARY_FILE =
      SETTINGS
          .define("shoplens.recommendations.vocabulary.file", "", null)
          .doc(
              "Attribute vocabulary file (synonyms, canonical values, garment categories; format in"
                  + " README: Recommendations). Empty: the built-in clothing vocabulary.");

  public static final Setting RECOMMENDATIONS_TRYON_CATEGORIES =
      SETTINGS
          .define(
              "shoplens.recommendations.tryon.categories",
              DEFAULTS.tryOnCategories().stream().map(Enum::name).sorted().toList(),
              GARMENT_CATEGORY_LIST)
          .doc(
              "Garment categories the virtual try-on service renders (comma-separated, of "
                  + GARMENT_CATEGORIES
                  + "); an upload of one is tryOnEligible. Empty: none is.");

  public static final Setting RECOMMENDATIONS_EMBEDDINGS_TOPIC =
      SETTINGS
          .define(
              "shoplens.recommendations.embeddings.topic",
              DEFAULTS.embeddingsTopic(),
              new ConfigDef.NonEmptyString())
          .importance(Importance.MEDIUM)
          .doc(
              "Compacted topic of the embedded catalog, read in full by every instance. Create it before"
                  + " starting; use one per model version (a replay with another model needs its own).");

  public static final Setting RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT =
      SETTINGS
          .define(
              "shoplens.recommendations.catalog.max.inflight",
              DEFAULTS.catalogMaxInFlight(),
              Range.atLeast(1))
          .doc(
              "Product images being embedded at once per catalog partition, so that loading a catalog"
                  + " does not crowd uploads out of the engine's queue.");

  public static final Setting RECOMMENDATIONS_INDEX_M =
      SETTINGS
          .define(
              "shoplens.recommendations.index.m",
              DEFAULTS.vectorIndex().maxConnections(),
              Range.between(2, 512))
          .doc(
              "Catalog vector index (Lucene HNSW): graph degree M. Higher raises recall at large catalogs"
                  + " and costs build time and 8 bytes a product per step (README: Recommendations at"
                  + " scale).");

  public static final Setting RECOMMENDATIONS_INDEX_BEAM_WIDTH =
      SETTINGS
          .define(
              "shoplens.recommendations.index.beam.width",
              DEFAULTS.vectorIndex().beamWidth(),
              Range.between(2, 3200))
          .doc(
              "Catalog vector index: HNSW construction beam. Higher builds a better graph (recall) in"
                  + " proportionally more CPU while the catalog is indexed and restored.");

  public static final Setting RECOMMENDATIONS_INDEX_CANDIDATES =
      SETTINGS
          .define(
              "shoplens.recommendations.index.candidates",
              DEFAULTS.vectorIndex().candidates(),
              Range.between(1, 10_000))
          .doc(
              "Catalog vector index: nearest pooled vectors fetched per search and re-ranked exactly;"
                  + " more raises recall and query latency.");

  public static final Setting RECOMMENDATIONS_INDEX_PRECISION =
      SETTINGS
          .define("shoplens.recommendations.index.precision", DEFAULTS.vectorIndex().precision())
          .doc(
              "How the catalog keeps a product's vectors for exact re-ranking when it has several (a"
                  + " retrieval model's 32 query vectors): FLOAT32, or INT8 (a quarter of the memory;"
                  + " recall measured in README: Recommendations at scale).");

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

  /**
   * Checks the weights together and the vocabulary file, then the record's own rules.
   *
   * @return whether the recommendation settings are valid
   */
  static boolean check(ShopLensConfig c, List<String> problems) {
    int before = problems.size();
    if (c.getDouble(RECOMMENDATIONS_ATTRIBUTE_WEIGHT.name()) == 0
        && c.getDouble(RECOMMENDATIONS_EMBEDDING_WEIGHT.name()) == 0) {
      problems.add(
          RECOMMENDATIONS_ATTRIBUTE_WEIGHT.name()
              + " and "
              + RECOMMENDATIONS_EMBEDDING_WEIGHT.name()
              + ": must not both be 0 (every product would score 0)");
    }
    String vocabularyFile = c.getString(RECOMMENDATIONS_VOCABULARY_FILE.name()).trim();
    if (!vocabularyFile.isEmpty()) {
      Path file = Path.of(vocabularyFile);
      if (!Files.isRegularFile(file)) {
        problems.add(
            PathProblems.expectedAt(
                RECOMMENDATIONS_VOCABULARY_FILE.name(), "a vocabulary file", file));
      } else {
        try {
          AttributeVocabulary.load(file);
        } catch (IllegalArgumentException | UncheckedIOException e) {
          problems.add(RECOMMENDATIONS_VOCABULARY_FILE.name() + ": " + e.getMessage());
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
    for (String category : c.getList(RECOMMENDATIONS_TRYON_CATEGORIES.name())) {
      if (!category.isBlank()) {
        tryOn.add(GarmentCategory.valueOf(category.trim().toUpperCase(Locale.ROOT)));
      }
    }
    RecommendConfigBuilder b =
        RecommendConfig.builder()
            .enabled(c.getBoolean(RECOMMENDATIONS_ENABLED.name()))
            .topK(c.getInt(RECOMMENDATIONS_TOP_K.name()))
            .attributeWeight(c.getDouble(RECOMMENDATIONS_ATTRIBUTE_WEIGHT.name()))
            .embeddingWeight(c.getDouble(RECOMMENDATIONS_EMBEDDING_WEIGHT.name()))
            .minScore(c.getDouble(RECOMMENDATIONS_MIN_SCORE.name()))
            .tryOnCategories(tryOn)
            .embeddingsTopic(c.getString(RECOMMENDATIONS_EMBEDDINGS_TOPIC.name()).trim())
            .catalogMaxInFlight(c.getInt(RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT.name()))
            .vectorIndex(
                new VectorIndex.Options(
                    c.getInt(RECOMMENDATIONS_INDEX_M.name()),
                    c.getInt(RECOMMENDATIONS_INDEX_BEAM_WIDTH.name()),
                    c.getInt(RECOMMENDATIONS_INDEX_CANDIDATES.name()),
                    DEFAULTS.vectorIndex().rerank(),
                    c.getEnum(
                        RECOMMENDATIONS_INDEX_PRECISION.name(), VectorIndex.Precision.class)));
    String vocabularyFile = c.getString(RECOMMENDATIONS_VOCABULARY_FILE.name()).trim();
    if (!vocabularyFile.isEmpty()) {
      b.vocabulary(AttributeVocabulary.load(Path.of(vocabularyFile)));
    }
    return b.build();
  }
}
