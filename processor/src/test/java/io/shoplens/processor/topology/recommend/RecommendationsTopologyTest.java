package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.events.Attribute;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.GarmentCategory;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.NoRecommendationsReason;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.Product;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.processor.topology.LineageHeaders;
import io.shoplens.processor.topology.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.test.TestRecord;
import org.assertj.core.data.Offset;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recommendations through the whole topology (TopologyTestDriver) with a stand-in engine whose
 * "images" say what the model sees: catalog products are embedded into the global store, each
 * upload's caption job yields one RecommendationsIssued keyed by uploadId.
 */
class RecommendationsTopologyTest {
  private static final String NAVY_TEE =
      "category=t-shirt;colour=navy blue;material=cotton;vec=1,0,0";

  @TempDir Path stateDir;

  private RecommendHarness harness(FakeEngine[] engine) {
    var config = RecommendHarness.config().build();
    engine[0] = FakeEngine.seeing(config);
    return new RecommendHarness(config, engine[0], stateDir);
  }

  private static List<String> ids(RecommendationsIssued r) {
    return r.getProducts().stream().map(RankedProduct::getProductId).toList();
  }

  @Test
  void shouldRankByAttributesAndSimilarityExcludingOutOfStockAndTheUploadedProduct() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      // Given a catalog: the uploaded product itself, a close match, a weaker one, one out of stock
      h.product("self", "men/tops/t-shirts", Map.of("color", "Navy"), true, "vec=1,0,0");
      h.product(
          "close",
          "men/tops/tees",
          Map.of("color", "dark blue", "fabric", "Cotton"),
          true,
          "vec=0.9,0.1,0");
      h.product("weak", "women/skirts", Map.of("color", "red"), true, "vec=0.5,0.5,0");
      h.product("gone", "men/tops/t-shirts", Map.of("color", "navy"), false, "vec=1,0,0");
      h.product("other", "home/mugs", Map.of(), true, "vec=0,0,1");

      // When a shopper uploads a photo of the product "self"
      RecommendationsIssued r = h.upload("up-1", "self", NAVY_TEE);

      // Then the matches are ranked, without the product itself nor the out-of-stock one
      assertThat(ids(r)).containsExactly("close", "weak", "other");
      RankedProduct best = r.getProducts().get(0);
      assertThat(best.getRank()).isEqualTo(1);
      assertThat(best.getMatchedAttributes()).containsExactly("category", "colour", "material");
      assertThat(best.getReasons())
          .contains("same colour: blue", "same category: t-shirt", "same material: cotton");
      assertThat(best.getReasons()).anyMatch(s -> s.startsWith("image similarity 0.99"));
      double cosine = 0.9 / Math.sqrt(0.82);
      assertThat(best.getSimilarity()).isCloseTo(cosine, Offset.offset(1e-6));
      assertThat(best.getScore()).isCloseTo(0.5 * 1.0 + 0.5 * cosine, Offset.offset(1e-6));
      assertThat(r.getProducts().get(2).getMatchedAttributes()).isEmpty();
      assertThat(r.getProducts().get(2).getSimilarity()).isEqualTo(0.0);
      // and the event says what was seen, for whom, from which model and input
      assertThat(r.getUploadId()).isEqualTo("up-1");
      assertThat(r.getUserId()).isEqualTo("user-1");
      assertThat(r.getEmptyReason()).isNull();
      assertThat(r.getGarmentCategory()).isEqualTo(GarmentCategory.UPPER_BODY);
      assertThat(r.getTryOnEligible()).isTrue();
      assertThat(r.getAttributes())
          .extracting(Attribute::getName, Attribute::getValue)
          .containsExactly(
              Tuple.tuple("category", "t-shirt"),
              Tuple.tuple("colour", "blue"),
              Tuple.tuple("material", "cotton"));
      assertThat(r.getModel().getModelVersion()).isEqualTo(FakeEngine.VERSION);
      assertThat(r.getLineage().getSourceTopic()).isEqualTo(Topics.IMAGE_UPLOADS);
      assertThat(r.getLineage().getSourceOffset()).isZero();
    }
  }

  @Test
  void shouldKeyRecommendationsByUploadIdWithLineageHeaders() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.product("p1", "tops", Map.of("colour", "blue"), true, "vec=1,0");
      h.uploads.pipeInput(
          "up-9",
          ImageUploaded.newBuilder()
              .setUploadId("up-9")
              .setUserId("u")
              .setProductId(null)
              .setImage(
                  new InlineImage(
                      ByteBuffer.wrap(FakeEngine.image("colour=blue;vec=1,0")), "image/png"))
              .setUploadedAt(RecommendHarness.T0)
              .build());
      h.tick();
      TestRecord<String, RecommendationsIssued> record = h.recommendations.readRecord();
      assertThat(record.key()).isEqualTo("up-9");
      assertThat(LineageHeaders.get(record.headers(), LineageHeaders.MODEL_VERSION))
          .isEqualTo(FakeEngine.VERSION);
      assertThat(LineageHeaders.get(record.headers(), LineageHeaders.SOURCE_TOPIC))
          .isEqualTo(Topics.IMAGE_UPLOADS);
      // The caption of the same upload is still published, once.
      assertThat(h.captions.readValuesToList()).hasSize(1);
    }
  }

  @Test
  void shouldChangeTheRankingWhenACatalogProductIsUpdated() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.product("a", "tops", Map.of("colour", "navy"), true, "vec=1,0,0");
      h.product("b", "tops", Map.of("colour", "red"), true, "vec=0,1,0");
      assertThat(ids(h.upload("up-1", null, NAVY_TEE))).containsExactly("a", "b");

      // When b is updated to a navy product with a matching image
      h.product("b", "tops", Map.of("colour", "blue", "material", "cotton"), true, "vec=1,0,0");

      // Then b overtakes a, and the store holds b's new embedding
      assertThat(ids(h.upload("up-2", null, NAVY_TEE))).containsExactly("b", "a");
      assertThat(h.catalogStore().get("b").embedding()).containsExactly(1f, 0f, 0f);
      assertThat(engine[0].embedded).containsOnlyOnce("catalog/a");
    }
  }

  @Test
  void shouldReuseTheEmbeddingWhenOnlyStockOrAttributesChange() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.product("a", "tops", Map.of("colour", "navy"), true, "vec=1,0,0");
      var entry = h.catalogStore().get("a");
      // Given the same image, published again with another stock level
      h.catalog.pipeInput(
          "a",
          Product.newBuilder()
              .setProductId("a")
              .setTitle("title a")
              .setCategory("tops")
              .setAttributes(Map.of("colour", "red"))
              .setImage(reference(h, entry))
              .setStockQuantity(3)
              .setInStock(true)
              .setUpdatedAt(null)
              .build());
      h.tick();
      // Then the image was neither fetched nor embedded again, and the new attributes apply
      assertThat(engine[0].embedded).containsExactly("catalog/a");
      assertThat(h.catalogStore().get("a").attributes()).containsEntry("colour", "red");
      assertThat(h.catalogStore().get("a").embedding()).containsExactly(1f, 0f, 0f);
    }
  }

  private static ImageReference reference(RecommendHarness h, CatalogEntry e) {
    String[] key = e.imageKey().split("#");
    byte[] bytes = h.images.get(key[0]);
    return new ImageReference(key[0], key[1], "image/png", (long) bytes.length);
  }

  @Test
  void shouldNeverRecommendADeletedProduct() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.product("a", "tops", Map.of("colour", "navy"), true, "vec=1,0,0");
      h.product("b", "tops", Map.of("colour", "navy"), true, "vec=0.8,0.2,0");
      assertThat(ids(h.upload("up-1", null, NAVY_TEE))).containsExactly("a", "b");

      // When a is deleted (a tombstone on the compacted catalog topic)
      h.delete("a");

      // Then it is gone from the store and never recommended again
      assertThat(h.catalogStore().get("a")).isNull();
      assertThat(ids(h.upload("up-2", null, NAVY_TEE))).containsExactly("b");
      h.delete("b");
      RecommendationsIssued none = h.upload("up-3", null, NAVY_TEE);
      assertThat(none.getProducts()).isEmpty();
      assertThat(none.getEmptyReason()).isEqualTo(NoRecommendationsReason.CATALOG_EMPTY);
    }
  }

  @Test
  void shouldDropTheResultOfAnEmbeddingThatADeleteOvertook() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      // Given a product and its tombstone processed before any punctuation forwarded the product
      h.images.put("https://img.test/x", FakeEngine.image("vec=1,0"));
      h.catalog.pipeInput(
          "x",
          Product.newBuilder()
              .setProductId("x")
              .setTitle("x")
              .setCategory("tops")
              .setImage(new ImageReference("https://img.test/x", "0".repeat(64), "image/png", 7L))
              .setInStock(true)
              .build());
      h.catalog.pipeInput("x", (Product) null);
      h.tick();
      // Then the product never reaches the store
      assertThat(h.catalogStore().get("x")).isNull();
      assertThat(h.upload("up-1", null, "colour=blue;vec=1,0").getEmptyReason())
          .isEqualTo(NoRecommendationsReason.CATALOG_EMPTY);
    }
  }

  @Test
  void shouldIssueAnEmptyListWithAReasonWhenTheCatalogIsEmpty() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      RecommendationsIssued r = h.upload("up-1", null, NAVY_TEE);
      assertThat(r.getProducts()).isEmpty();
      assertThat(r.getEmptyReason()).isEqualTo(NoRecommendationsReason.CATALOG_EMPTY);
      // The garment is still reported for the try-on service
      assertThat(r.getGarmentCategory()).isEqualTo(GarmentCategory.UPPER_BODY);
      assertThat(r.getTryOnEligible()).isTrue();
    }
  }

  @Test
  void shouldExcludeOutOfStockProductsAndSaySoWhenNothingElseIsLeft() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.product("a", "tops", Map.of("colour", "navy"), false, "vec=1,0,0");
      h.product("b", "tops", Map.of("colour", "navy"), false, "vec=1,0,0");
      RecommendationsIssued r = h.upload("up-1", null, NAVY_TEE);
      assertThat(r.getProducts()).isEmpty();
      assertThat(r.getEmptyReason()).isEqualTo(NoRecommendationsReason.ALL_OUT_OF_STOCK);

      // When one comes back in stock it is recommended
      h.product("b", "tops", Map.of("colour", "navy"), true, "vec=1,0,0");
      assertThat(ids(h.upload("up-2", null, NAVY_TEE))).containsExactly("b");
    }
  }

  @Test
  void shouldReportGarmentCategoriesAndTryOnEligibilityFromConfiguration() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.product("a", "shoes", Map.of(), true, "vec=1,0,0");
      RecommendationsIssued shoes = h.upload("up-1", null, "category=white trainers;vec=1,0,0");
      assertThat(shoes.getGarmentCategory()).isEqualTo(GarmentCategory.FOOTWEAR);
      assertThat(shoes.getTryOnEligible()).isFalse(); // footwear is not a default try-on category
      assertThat(ids(shoes)).containsExactly("a");

      RecommendationsIssued mug = h.upload("up-2", null, "category=a coffee mug;vec=1,0,0");
      assertThat(mug.getGarmentCategory()).isEqualTo(GarmentCategory.NOT_A_GARMENT);
      assertThat(mug.getTryOnEligible()).isFalse();
      assertThat(mug.getProducts()).isEmpty();
      assertThat(mug.getEmptyReason()).isEqualTo(NoRecommendationsReason.NOT_A_GARMENT);

      RecommendationsIssued unknown = h.upload("up-3", null, "category=zzz;vec=1,0,0");
      assertThat(unknown.getGarmentCategory()).isEqualTo(GarmentCategory.UNKNOWN);
      assertThat(unknown.getTryOnEligible()).isFalse();
    }
    // And with footwear configured as supported, the same upload is eligible
    var config =
        RecommendHarness.config()
            .recommendations(
                RecommendConfig.builder()
                    .enabled(true)
                    .tryOnCategories(Set.of(GarmentCategory.FOOTWEAR))
                    .build())
            .build();
    try (RecommendHarness h = new RecommendHarness(config, FakeEngine.seeing(config), stateDir)) {
      assertThat(h.upload("up-1", null, "category=sneakers;vec=1").getTryOnEligible()).isTrue();
      assertThat(h.upload("up-2", null, "category=tee;vec=1").getTryOnEligible()).isFalse();
    }
  }

  @Test
  void shouldKeepAProductWhoseImageFailsWithoutEmbeddingAndDeadLetterIt() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      // Given a product whose image the resolver cannot fetch (404, not retriable)
      h.catalog.pipeInput(
          "broken",
          Product.newBuilder()
              .setProductId("broken")
              .setTitle("broken")
              .setCategory("tops")
              .setAttributes(Map.of("colour", "navy"))
              .setImage(
                  new ImageReference("https://img.test/missing", "0".repeat(64), "image/png", 7L))
              .setInStock(true)
              .build());
      h.tick();
      // Then it is dead-lettered once, and still recommended on its attributes alone
      List<DeadLetter> letters = h.deadLetters.readValuesToList();
      assertThat(letters).hasSize(1);
      assertThat(letters.get(0).getStage()).isEqualTo(ProcessingStage.RESOLVE_IMAGE);
      assertThat(letters.get(0).getSourceTopic()).isEqualTo(Topics.CATALOG_PRODUCTS);
      RankedProduct only = h.upload("up-1", null, NAVY_TEE).getProducts().get(0);
      assertThat(only.getProductId()).isEqualTo("broken");
      assertThat(only.getSimilarity()).isNull();
      assertThat(only.getMatchedAttributes()).containsExactly("colour");
    }
  }

  @Test
  void shouldDeadLetterAnUnreadableCatalogRecordAndKeepGoing() {
    FakeEngine[] engine = new FakeEngine[1];
    try (RecommendHarness h = harness(engine)) {
      h.driver
          .createInputTopic(
              Topics.CATALOG_PRODUCTS, new StringSerializer(), new ByteArraySerializer())
          .pipeInput("junk", "not avro".getBytes(StandardCharsets.UTF_8));
      h.product("a", "tops", Map.of("colour", "navy"), true, "vec=1,0,0");
      assertThat(h.deadLetters.readValuesToList())
          .singleElement()
          .satisfies(d -> assertThat(d.getStage()).isEqualTo(ProcessingStage.DESERIALIZE));
      assertThat(ids(h.upload("up-1", null, NAVY_TEE))).containsExactly("a");
    }
  }
}
