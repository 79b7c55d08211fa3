package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Product;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.MockSchemaRegistryClient;
import io.shoplens.registry.RestClientException;
import io.shoplens.serde.KafkaAvroSerDeConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;

/**
 * Gives every ShopLens event schema the same {@code mock://} registry id in every JVM of a test.
 *
 * <p>A {@code mock://<scope>} registry lives inside one JVM, so a test that runs the application in
 * a child JVM has two registries. Mock ids start at 1 and are handed out in registration order, and
 * the same schema text keeps its id in every subject: so registering the same schemas in the same
 * order first thing in both JVMs ({@link #register}) gives the same ids on both sides. The serde
 * settings ({@link #serdeConfig}) turn auto-registration off, so that a schema missing from the
 * list fails loudly instead of getting a different id in each JVM.
 */
final class FixedSchemaIds {
  private FixedSchemaIds() {}

  /** Serde settings for {@code mock://scope}, auto-registration off. */
  static Map<String, Object> serdeConfig(String scope) {
    return Map.of(
        KafkaAvroSerDeConfig.SCHEMA_REGISTRY_URL_CONFIG,
        MockSchemaRegistry.MOCK_URL_PREFIX + scope,
        KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG,
        false);
  }

  /** Topic and value schema, in the one order every JVM registers them. */
  private static final List<Map.Entry<String, Schema>> SCHEMAS =
      List.of(
          Map.entry(Topics.IMAGE_UPLOADS, ImageUploaded.getClassSchema()),
          Map.entry(Topics.QUESTIONS, QuestionAsked.getClassSchema()),
          Map.entry(Topics.CATALOG_PRODUCTS, Product.getClassSchema()),
          Map.entry(Topics.CAPTIONS, ImageCaptioned.getClassSchema()),
          Map.entry(Topics.ANSWERS, QuestionAnswered.getClassSchema()),
          Map.entry(Topics.RECOMMENDATIONS, RecommendationsIssued.getClassSchema()),
          Map.entry(Topics.DEAD_LETTERS, DeadLetter.getClassSchema()));

  /**
   * Registers each topic's value schema under {@code <topic>-value} (the default subject name
   * strategy), always in the same order. Call it before any client of the scope serializes.
   *
   * @return the ids, in that order (1, 2, ... in a fresh scope)
   */
  static List<Integer> register(String scope) {
    MockSchemaRegistryClient registry = MockSchemaRegistry.getClientForScope(scope);
    List<Integer> ids = new ArrayList<>();
    for (Map.Entry<String, Schema> e : SCHEMAS) {
      try {
        ids.add(registry.register(e.getKey() + "-value", e.getValue()));
      } catch (RestClientException ex) {
        throw new IllegalStateException("could not register the schema of " + e.getKey(), ex);
      }
    }
    return ids;
  }
}
