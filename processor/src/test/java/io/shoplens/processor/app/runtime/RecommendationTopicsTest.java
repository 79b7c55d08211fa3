package io.shoplens.processor.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.embedded.EmbeddedKafkaCluster;
import io.shoplens.processor.app.admin.TopicAdmin;
import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.app.config.RecommendationSettings;
import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With recommendations enabled, {@code shoplens topics create} makes the compacted embeddings topic
 * and a start without it fails at once, naming the topic and the command that creates it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RecommendationTopicsTest {
  static EmbeddedKafkaCluster kafka;
  static Admin admin;

  @BeforeAll
  static void startKafka() {
    kafka = new EmbeddedKafkaCluster().start();
    admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()));
  }

  @AfterAll
  static void stopKafka() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  ShopLensConfig config(String embeddingsTopic) {
    Map<String, String> s = new HashMap<>();
    s.put("bootstrap.servers", kafka.bootstrapServers());
    s.put("schema.registry.url", "mock://rec-topics-" + UUID.randomUUID());
    s.put("shoplens.model.path", ShopLensApplicationTest.TINY.toString());
    s.put("shoplens.http.port", "-1");
    s.put(RecommendationSettings.RECOMMENDATIONS_ENABLED.name(), "true");
    s.put(RecommendationSettings.RECOMMENDATIONS_EMBEDDINGS_TOPIC.name(), embeddingsTopic);
    return ShopLensConfig.validate(s);
  }

  @Test
  void shouldDeclareTheEmbeddingsTopicCompactedOnlyWhenAsked() {
    List<NewTopic> without = TopicAdmin.newTopics(3, Optional.empty());
    List<NewTopic> with = TopicAdmin.newTopics(3, Optional.empty(), List.of("emb.v1"));

    assertThat(without).extracting(NewTopic::name).doesNotContain("emb.v1");
    assertThat(with).extracting(NewTopic::name).endsWith("emb.v1").hasSize(without.size() + 1);
    NewTopic embeddings = with.get(with.size() - 1);
    assertThat(embeddings.configs())
        .containsEntry(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
    assertThat(embeddings.numPartitions()).isEqualTo(3);
  }

  @Test
  void shouldRefuseToStartWithRecommendationsWhenTheEmbeddingsTopicIsMissing() {
    // Given a cluster without the embeddings topic
    String embeddings = "missing.embeddings." + UUID.randomUUID();
    ShopLensConfig config = config(embeddings);

    // When ShopLens starts with recommendations enabled, Then it fails before loading the model,
    // naming the topic and the way to create it
    assertThatThrownBy(() -> ShopLensApplication.start(config))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("shoplens.recommendations.enabled=true")
        .hasMessageContaining(embeddings)
        .hasMessageContaining("shoplens topics create --recommendations");
  }

  @Test
  void shouldCreateTheCompactedCatalogAndEmbeddingsTopicsFromTheCommandLine() throws Exception {
    // Given recommendations enabled in the environment with their own embeddings topic
    String embeddings = "shop.embeddings." + UUID.randomUUID();
    Map<String, String> env =
        Map.of(
            "SHOPLENS_RECOMMENDATIONS_ENABLED",
            "true",
            "SHOPLENS_RECOMMENDATIONS_EMBEDDINGS_TOPIC",
            embeddings);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    // When `shoplens topics create` runs
    int code =
        ShopLensCli.execute(
            new String[] {"topics", "create", "--bootstrap", kafka.bootstrapServers(), "-p", "1"},
            env,
            new PrintWriter(out),
            new PrintWriter(err));

    // Then both recommendation topics exist, compacted, and ShopLens's start check passes
    assertThat(code).as(out + "" + err).isZero();
    assertThat(out.toString()).contains(embeddings);
    assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
        .contains(Topics.CATALOG_PRODUCTS, embeddings)
        .doesNotContain(RecommendConfig.DEFAULT_EMBEDDINGS_TOPIC);
    assertCompacted(Topics.CATALOG_PRODUCTS, embeddings);
    assertThatCode(() -> ShopLensApplication.requireRecommendationTopics(config(embeddings)))
        .doesNotThrowAnyException();
  }

  @Test
  void shouldCreateTheRetrievalTopicsCompactedWithTheRetrievalFlag() throws Exception {
    // Given names of their own for the embeddings and upload-embeddings topics
    String embeddings = "search.embeddings." + UUID.randomUUID();
    String uploads = "search.upload-embeddings." + UUID.randomUUID();
    Map<String, String> env =
        Map.of(
            "SHOPLENS_RECOMMENDATIONS_EMBEDDINGS_TOPIC",
            embeddings,
            "SHOPLENS_RETRIEVAL_UPLOAD_EMBEDDINGS_TOPIC",
            uploads);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    // When `shoplens topics create --retrieval` runs
    int code =
        ShopLensCli.execute(
            new String[] {
              "topics", "create", "--retrieval", "--bootstrap", kafka.bootstrapServers(), "-p", "1"
            },
            env,
            new PrintWriter(out),
            new PrintWriter(err));

    // Then the search topics and both feature topics exist, the feature topics compacted
    assertThat(code).as(out + "" + err).isZero();
    assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS))
        .contains(Topics.SEARCH_REQUESTS, Topics.SEARCH_RESULTS, embeddings, uploads);
    assertCompacted(embeddings, uploads);
  }

  private void assertCompacted(String... topics) throws Exception {
    for (String topic : topics) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      String policy =
          admin
              .describeConfigs(List.of(resource))
              .all()
              .get(30, TimeUnit.SECONDS)
              .get(resource)
              .get(TopicConfig.CLEANUP_POLICY_CONFIG)
              .value();
      assertThat(policy).as(topic).isEqualTo(TopicConfig.CLEANUP_POLICY_COMPACT);
    }
  }
}
