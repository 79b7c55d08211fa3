package io.shoplens.processor.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.events.GarmentCategory;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.VectorIndex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code shoplens.recommendations.*} settings and their mapping into the topology. */
class RecommendationSettingsTest {
  @TempDir Path dir;

  @Test
  void shouldKeepRecommendationsOffWithTheTopologyDefaults() {
    // Given no recommendation settings, When the topology config is built
    RecommendConfig rc =
        ShopLensConfig.validate(ShopLensConfigTest.minimal())
            .topologyConfig("m", 10)
            .recommendations();

    // Then recommendations are off and every other value is RecommendConfig's default
    RecommendConfig defaults = RecommendConfig.defaults();
    assertThat(rc.enabled()).isFalse();
    assertThat(rc.topK()).isEqualTo(defaults.topK());
    assertThat(rc.attributeWeight()).isEqualTo(defaults.attributeWeight());
    assertThat(rc.embeddingWeight()).isEqualTo(defaults.embeddingWeight());
    assertThat(rc.minScore()).isEqualTo(defaults.minScore());
    assertThat(rc.tryOnCategories()).isEqualTo(defaults.tryOnCategories());
    assertThat(rc.embeddingsTopic()).isEqualTo(RecommendConfig.DEFAULT_EMBEDDINGS_TOPIC);
    assertThat(rc.catalogMaxInFlight()).isEqualTo(defaults.catalogMaxInFlight());
    assertThat(rc.vectorIndex()).isEqualTo(VectorIndex.Options.defaults());
  }

  @Test
  void shouldMapEveryRecommendationSettingIntoTheTopologyConfig() throws Exception {
    // Given a vocabulary file and every recommendation setting, from the environment
    Path vocabulary = dir.resolve("vocabulary.txt");
    Files.writeString(
        vocabulary,
        "category.kilt = tartan skirt\n@garment.LOWER_BODY = kilt\n",
        StandardCharsets.UTF_8);
    EnvironmentConfig.Result env =
        EnvironmentConfig.parse(
            Map.ofEntries(
                Map.entry("SHOPLENS_RECOMMENDATIONS_ENABLED", "true"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_TOP_K", "3"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_ATTRIBUTE_WEIGHT", "0.25"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_EMBEDDING_WEIGHT", "0.75"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_MIN_SCORE", "-0.5"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_VOCABULARY_FILE", vocabulary.toString()),
                Map.entry("SHOPLENS_RECOMMENDATIONS_TRYON_CATEGORIES", "lower_body, FOOTWEAR"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_EMBEDDINGS_TOPIC", "shop.embeddings.model-b"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_CATALOG_MAX_INFLIGHT", "2"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_INDEX_M", "32"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_INDEX_BEAM_WIDTH", "100"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_INDEX_CANDIDATES", "1000"),
                Map.entry("SHOPLENS_RECOMMENDATIONS_INDEX_PRECISION", "int8")),
            ShopLensConfig.configDef().names());
    assertThat(env.ignored()).isEmpty();
    Map<String, String> s = ShopLensConfigTest.minimal();
    s.putAll(env.settings());

    // When
    ShopLensConfig config = ShopLensConfig.validate(s);
    ShopLensTopologyConfig topology = config.topologyConfig("m", 10);
    RecommendConfig rc = topology.recommendations();

    // Then each reaches the topology
    assertThat(config.recommendationsEnabled()).isTrue();
    assertThat(rc.enabled()).isTrue();
    assertThat(rc.topK()).isEqualTo(3);
    assertThat(rc.attributeWeight()).isEqualTo(0.25);
    assertThat(rc.embeddingWeight()).isEqualTo(0.75);
    assertThat(rc.minScore()).isEqualTo(-0.5);
    assertThat(rc.vocabulary().normalize("category", "a tartan skirt")).isEqualTo("kilt");
    assertThat(rc.vocabulary().garmentCategory("kilt")).isEqualTo(GarmentCategory.LOWER_BODY);
    assertThat(rc.tryOnCategories())
        .isEqualTo(Set.of(GarmentCategory.LOWER_BODY, GarmentCategory.FOOTWEAR));
    assertThat(rc.embeddingsTopic()).isEqualTo("shop.embeddings.model-b");
    assertThat(rc.catalogMaxInFlight()).isEqualTo(2);
    assertThat(rc.vectorIndex())
        .isEqualTo(new VectorIndex.Options(32, 100, 1000, true, VectorIndex.Precision.INT8));
    // caption + 5 attribute prompts + the image embedding
    assertThat(topology.requestsPerUpload()).isEqualTo(7);
  }

  @Test
  void shouldAllowAnEmptyTryOnListMeaningNothingIsEligible() {
    Map<String, String> s = ShopLensConfigTest.minimal();
    s.put(RecommendationSettings.RECOMMENDATIONS_TRYON_CATEGORIES.name(), "");

    assertThat(ShopLensConfig.validate(s).recommendConfig().tryOnCategories()).isEmpty();
  }

  @Test
  void shouldReportEveryBadRecommendationSettingOneLineEach() {
    // Given out-of-range numbers, an unknown garment category and a blank topic
    Map<String, String> s = ShopLensConfigTest.minimal();
    s.put(RecommendationSettings.RECOMMENDATIONS_TOP_K.name(), "0");
    s.put(RecommendationSettings.RECOMMENDATIONS_ATTRIBUTE_WEIGHT.name(), "-1");
    s.put(RecommendationSettings.RECOMMENDATIONS_EMBEDDING_WEIGHT.name(), "NaN");
    s.put(RecommendationSettings.RECOMMENDATIONS_MIN_SCORE.name(), "Infinity");
    s.put(RecommendationSettings.RECOMMENDATIONS_TRYON_CATEGORIES.name(), "UPPER_BODY,HATS");
    s.put(RecommendationSettings.RECOMMENDATIONS_EMBEDDINGS_TOPIC.name(), " ");
    s.put(RecommendationSettings.RECOMMENDATIONS_CATALOG_MAX_IN_FLIGHT.name(), "0");
    s.put(RecommendationSettings.RECOMMENDATIONS_INDEX_M.name(), "1");
    s.put(RecommendationSettings.RECOMMENDATIONS_INDEX_CANDIDATES.name(), "0");
    s.put(RecommendationSettings.RECOMMENDATIONS_INDEX_PRECISION.name(), "FLOAT16");

    // When / Then: every one is named
    assertThatThrownBy(() -> ShopLensConfig.validate(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .anySatisfy(p -> assertThat(p).startsWith("shoplens.recommendations.top.k:"))
                    .anySatisfy(
                        p -> assertThat(p).startsWith("shoplens.recommendations.attribute.weight:"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.recommendations.embedding.weight:")
                                .contains("finite"))
                    .anySatisfy(
                        p -> assertThat(p).startsWith("shoplens.recommendations.min.score:"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.recommendations.tryon.categories:")
                                .contains("HATS")
                                .contains("UPPER_BODY, LOWER_BODY"))
                    .anySatisfy(
                        p -> assertThat(p).startsWith("shoplens.recommendations.embeddings.topic:"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.recommendations.catalog.max.inflight:"))
                    .anySatisfy(p -> assertThat(p).startsWith("shoplens.recommendations.index.m:"))
                    .anySatisfy(
                        p -> assertThat(p).startsWith("shoplens.recommendations.index.candidates:"))
                    .anySatisfy(
                        p ->
                            assertThat(p)
                                .startsWith("shoplens.recommendations.index.precision:")
                                .contains("FLOAT16"))
                    .allSatisfy(p -> assertThat(p).doesNotContain("\n")));
  }

  @Test
  void shouldRefuseBothWeightsZero() {
    Map<String, String> s = ShopLensConfigTest.minimal();
    s.put(RecommendationSettings.RECOMMENDATIONS_ATTRIBUTE_WEIGHT.name(), "0");
    s.put(RecommendationSettings.RECOMMENDATIONS_EMBEDDING_WEIGHT.name(), "0.0");

    assertThatThrownBy(() -> ShopLensConfig.validate(s))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "shoplens.recommendations.attribute.weight and"
                            + " shoplens.recommendations.embedding.weight: must not both be 0"
                            + " (every product would score 0)"));
  }

  @Test
  void shouldNameTheMissingOrMalformedVocabularyFile() throws Exception {
    // Given a vocabulary path that does not exist
    Map<String, String> missing = ShopLensConfigTest.minimal();
    missing.put(
        RecommendationSettings.RECOMMENDATIONS_VOCABULARY_FILE.name(),
        dir.resolve("nope.txt").toString());
    assertThatThrownBy(() -> ShopLensConfig.validate(missing))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .asString()
                    .startsWith("shoplens.recommendations.vocabulary.file: expected a vocabulary")
                    .contains("nope.txt"));

    // And one whose second line is malformed
    Path bad = dir.resolve("bad.txt");
    Files.writeString(bad, "colour.blue = navy\nthis line has no equals sign\n");
    Map<String, String> malformed = ShopLensConfigTest.minimal();
    malformed.put(RecommendationSettings.RECOMMENDATIONS_VOCABULARY_FILE.name(), bad.toString());
    assertThatThrownBy(() -> ShopLensConfig.validate(malformed))
        .isInstanceOfSatisfying(
            ConfigProblemsException.class,
            e ->
                assertThat(e.problems())
                    .singleElement()
                    .asString()
                    .startsWith("shoplens.recommendations.vocabulary.file: ")
                    .contains("bad.txt:2"));
  }
}
