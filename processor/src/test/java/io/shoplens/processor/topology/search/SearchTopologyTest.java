package io.shoplens.processor.topology.search;

import static io.shoplens.processor.topology.search.SearchHarness.filters;
import static io.shoplens.processor.topology.search.SearchHarness.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.ProductMatch;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.events.SearchMode;
import io.shoplens.events.UploadEmbedding;
import io.shoplens.processor.testing.FakeRetrieval;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.Topics;
import io.shoplens.processor.topology.recommend.CatalogEntry;
import io.shoplens.processor.topology.recommend.RecommendConfig;
import io.shoplens.processor.topology.recommend.RecommendTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Product search, upload features, retrieval-backed recommendations and related products on the
 * TopologyTestDriver with a fake 3-d retrieval model. The catalog (query vectors per product):
 *
 * <pre>
 * p-white  sneakers white in stock      (1,0,0) (0,1,0)
 * p-black  sneakers black in stock      (0.6,0.8,0) (0,0,1)
 * p-old    sneakers white out of stock  (1,0.1,0)
 * p-jacket jacket   blue  in stock      (0.8,0,0.6)
 * </pre>
 *
 * and the text "white sneakers" is (1,0,0).
 */
class SearchTopologyTest {
  private static final float[] X = {1, 0, 0};

  @TempDir Path stateDir;

  private SearchHarness harness() {
    return new SearchHarness(SearchHarness.config().build(), stateDir);
  }

  private static void catalog(SearchHarness h) {
    h.product("p-white", "men/shoes/sneakers", "white", true, X, new float[] {0, 1, 0});
    h.product(
        "p-black",
        "men/shoes/sneakers",
        "black",
        true,
        new float[] {0.6f, 0.8f, 0},
        new float[] {0, 0, 1});
    h.product("p-old", "men/shoes/sneakers", "white", false, new float[] {1, 0.1f, 0});
    h.product("p-jacket", "women/outerwear/jackets", "navy", true, new float[] {0.8f, 0, 0.6f});
    h.retrieval.text("white sneakers", X);
  }

  private static List<String> ids(ProductSearchResults r) {
    return r.getProducts().stream().map(ProductMatch::getProductId).toList();
  }

  @Test
  void shouldRankInStockProductsByExactTextSimilarityWithTheirColourAndStock() {
    try (SearchHarness h = harness()) {
      // Given the catalog embedded with the retrieval model
      catalog(h);

      // When a shopper searches by text
      ProductSearchResults r = h.search(request("s-1", "white sneakers", null).build());

      // Then in-stock products come ranked by max-similarity over their query vectors
      assertThat(r.getFailureReason()).isNull();
      assertThat(r.getMode()).isEqualTo(SearchMode.TEXT);
      assertThat(ids(r)).containsExactly("p-white", "p-jacket", "p-black");
      ProductMatch first = r.getProducts().get(0);
      assertThat(first.getRank()).isEqualTo(1);
      assertThat(first.getTextSimilarity()).isCloseTo(1.0, within(1e-6));
      assertThat(first.getImageSimilarity()).isNull();
      assertThat(first.getScore()).isCloseTo(1.0, within(1e-6));
      assertThat(first.getColour()).isEqualTo("white");
      assertThat(first.getCategory()).isEqualTo("sneakers");
      assertThat(first.getInStock()).isTrue();
      assertThat(first.getReasons()).containsExactly("text similarity 1.000 to 'white sneakers'");
      assertThat(r.getProducts().get(1).getTextSimilarity()).isCloseTo(0.8, within(1e-6));
      assertThat(r.getModel().getModelVersion()).isEqualTo(FakeRetrieval.VERSION);
      assertThat(r.getLineage().getSourceTopic()).isEqualTo(Topics.SEARCH_REQUESTS);
      // And the text went to the retrieval model (through the job protocol), once
      assertThat(h.retrieval.texts).containsExactly("search/s-1");
    }
  }

  @Test
  void shouldApplyCategoryByVocabularySynonymAndStockFiltersInTheSearch() {
    try (SearchHarness h = harness()) {
      catalog(h);

      // When searching only sneakers ("trainers" is a synonym), out of stock included
      ProductSearchResults r =
          h.search(
              request("s-2", "white sneakers", null)
                  .setFilters(filters("trainers", false))
                  .build());

      // Then the jacket is filtered out and the out-of-stock pair is found, marked as such
      assertThat(ids(r)).containsExactly("p-white", "p-old", "p-black");
      assertThat(r.getProducts().get(1).getInStock()).isFalse();
      assertThat(r.getProducts().get(0).getReasons()).contains("category: sneakers");

      // And a limit cuts the list
      ProductSearchResults top1 =
          h.search(request("s-3", "white sneakers", null).setLimit(1).build());
      assertThat(ids(top1)).containsExactly("p-white");
    }
  }

  @Test
  void shouldSearchByAnUploadsPooledImageFeatureOnceItIsCaptioned() {
    try (SearchHarness h = harness()) {
      catalog(h);

      // Given an upload whose (only) query vector is (0,0,1), captioned
      h.upload("up-1", "", new float[] {0, 0, 1});

      // Then its pooled feature is published for the global store (and external indexes), as an
      // Avro UploadEmbedding that names the model and the upload record it came from
      List<UploadEmbedding> published = h.uploadEmbeddings.readValuesToList();
      assertThat(published).hasSize(1);
      UploadEmbedding e = published.get(0);
      assertThat(e.getUploadId()).isEqualTo("up-1");
      assertThat(e.getUserId()).isEqualTo("user-1");
      assertThat(e.getModel().getModelVersion()).isEqualTo(FakeRetrieval.VERSION);
      assertThat(e.getModel().getModelId()).isEqualTo(h.retrieval.modelId());
      assertThat(e.getDimensions()).isEqualTo(3);
      assertThat(e.getVector()).containsExactly(0f, 0f, 1f);
      assertThat(e.getLineage().getSourceTopic()).isEqualTo(Topics.IMAGE_UPLOADS);

      // When a shopper searches with it
      ProductSearchResults r = h.search(request("s-4", null, "up-1").build());

      // Then products rank by the max over their query vectors of the dot with it
      assertThat(r.getMode()).isEqualTo(SearchMode.IMAGE);
      assertThat(ids(r)).containsExactly("p-black", "p-jacket", "p-white");
      assertThat(r.getProducts().get(0).getImageSimilarity()).isCloseTo(1.0, within(1e-6));
      assertThat(r.getProducts().get(1).getImageSimilarity()).isCloseTo(0.6, within(1e-6));
      assertThat(r.getProducts().get(0).getTextSimilarity()).isNull();
      assertThat(h.retrieval.texts).isEmpty();
    }
  }

  @Test
  void shouldCombineTextAndImageByTheMeanOfBothSimilarities() {
    try (SearchHarness h = harness()) {
      catalog(h);
      h.upload("up-1", "", new float[] {0, 0, 1});

      // When searching with both the words and the photo
      ProductSearchResults r = h.search(request("s-5", "white sneakers", "up-1").build());

      // Then each product scores the mean of its text and image similarities, an order that
      // neither alone gives (text: white, jacket, black; image: black, jacket, white)
      assertThat(r.getMode()).isEqualTo(SearchMode.TEXT_AND_IMAGE);
      assertThat(ids(r)).containsExactly("p-black", "p-jacket", "p-white");
      ProductMatch black = r.getProducts().get(0);
      assertThat(black.getTextSimilarity()).isCloseTo(0.6, within(1e-6));
      assertThat(black.getImageSimilarity()).isCloseTo(1.0, within(1e-6));
      assertThat(black.getScore()).isCloseTo(0.8, within(1e-6));
      assertThat(r.getProducts().get(1).getScore()).isCloseTo(0.7, within(1e-6));
      assertThat(r.getProducts().get(2).getScore()).isCloseTo(0.5, within(1e-6));
    }
  }

  @Test
  void shouldAnswerEveryBadSearchWithItsReasonAndKeepGoing() {
    try (SearchHarness h = harness()) {
      h.retrieval.text("white sneakers", X);
      // Given no catalog product has features yet
      assertThat(failure(h.search(request("b-0", "white sneakers", null).build())))
          .isEqualTo(SearchFailureReason.CATALOG_NOT_EMBEDDED);

      catalog(h);
      // When the input is bad, Then each gets results with its reason (and no products)
      assertThat(failure(h.search(request("b-1", "   ", null).build())))
          .isEqualTo(SearchFailureReason.EMPTY_QUERY);
      assertThat(failure(h.search(request("b-2", null, null).build())))
          .isEqualTo(SearchFailureReason.EMPTY_QUERY);
      ProductSearchResults tooLong = h.search(request("b-3", "x".repeat(41), null).build());
      assertThat(tooLong.getFailureReason()).isEqualTo(SearchFailureReason.QUERY_TOO_LONG);
      assertThat(tooLong.getFailureMessage()).contains("41 characters, at most 40");
      ProductSearchResults unknownUpload = h.search(request("b-4", null, "up-missing").build());
      assertThat(unknownUpload.getFailureReason()).isEqualTo(SearchFailureReason.UNKNOWN_UPLOAD);
      assertThat(unknownUpload.getFailureMessage()).contains("up-missing");
      ProductSearchResults unknownCategory =
          h.search(
              request("b-5", "white sneakers", null)
                  .setFilters(filters("spaceships", true))
                  .build());
      assertThat(unknownCategory.getFailureReason())
          .isEqualTo(SearchFailureReason.UNKNOWN_FILTER_VALUE);
      assertThat(unknownCategory.getFailureMessage()).contains("'spaceships'");
      assertThat(failure(h.search(request("b-6", "white sneakers", null).setLimit(0).build())))
          .isEqualTo(SearchFailureReason.INVALID_LIMIT);
      assertThat(failure(h.search(request("b-7", "white sneakers", null).setLimit(6).build())))
          .isEqualTo(SearchFailureReason.INVALID_LIMIT);
      // None of them reached the model, and none was dead-lettered
      assertThat(h.retrieval.texts).isEmpty();
      assertThat(h.deadLetters.readValuesToList()).isEmpty();

      // And a good search afterwards is answered as usual
      assertThat(ids(h.search(request("ok", "white sneakers", null).build())))
          .startsWith("p-white");
    }
  }

  @Test
  void shouldDeadLetterUnreadableOrMiskeyedRequestsAndKeepGoing() {
    try (SearchHarness h = harness()) {
      catalog(h);

      // When a request cannot be read, and another's key is not its requestId
      h.rawSearches.pipeInput("r-1", "not avro".getBytes(StandardCharsets.UTF_8));
      h.searches.pipeInput("r-other", request("r-2", "white sneakers", null).build());
      h.tick();

      // Then both are dead-lettered with their stage and reason, and nothing is answered
      List<DeadLetter> letters = h.deadLetters.readValuesToList();
      assertThat(letters)
          .extracting(DeadLetter::getStage)
          .containsExactly(ProcessingStage.DESERIALIZE, ProcessingStage.VALIDATE);
      assertThat(letters.get(1).getErrorClass()).isEqualTo("KeyMismatch");
      assertThat(letters.get(0).getSourceTopic()).isEqualTo(Topics.SEARCH_REQUESTS);
      assertThat(h.results.readValuesToList()).isEmpty();

      // And the next good request is answered
      assertThat(ids(h.search(request("r-3", "white sneakers", null).build())))
          .startsWith("p-white");
    }
  }

  @Test
  void shouldDeadLetterASearchWhoseModelCallFailsForGoodAndStillAnswerIt() {
    try (SearchHarness h = harness()) {
      catalog(h);

      // When the model fails on a text every time (maxAttempts 2)
      h.searches.pipeInput("f-1", request("f-1", "no feature for this", null).build());
      for (int i = 0; i < 5; i++) {
        h.tick();
      }

      // Then it was tried twice, dead-lettered at INFERENCE, and answered with SEARCH_FAILED
      assertThat(h.retrieval.texts).containsExactly("search/f-1", "search/f-1");
      List<DeadLetter> letters = h.deadLetters.readValuesToList();
      assertThat(letters).hasSize(1);
      assertThat(letters.get(0).getStage()).isEqualTo(ProcessingStage.INFERENCE);
      assertThat(letters.get(0).getAttempts()).isEqualTo(2);
      List<ProductSearchResults> results = h.results.readValuesToList();
      assertThat(results).hasSize(1);
      assertThat(results.get(0).getFailureReason()).isEqualTo(SearchFailureReason.SEARCH_FAILED);
      assertThat(results.get(0).getFailureMessage()).contains("no feature for this");
    }
  }

  @Test
  void shouldEmbedTheCatalogWithRetrievalFeaturesAndRecommendWithThem() {
    ShopLensTopologyConfig config =
        SearchHarness.config()
            .recommendations(RecommendConfig.builder().enabled(true).topK(3).minScore(-1.0).build())
            .build();
    try (SearchHarness h = new SearchHarness(config, stateDir)) {
      catalog(h);

      // Then every catalog entry holds its Q query vectors of the retrieval model
      CatalogEntry white =
          h.driver
              .<String, CatalogEntry>getKeyValueStore(RecommendTopology.CATALOG_STORE)
              .get("p-white");
      assertThat(white.modelVersion()).isEqualTo(FakeRetrieval.VERSION);
      assertThat(white.embedding()).hasSize(2 * 3);

      // When a sneaker photo whose query vector is (0,0,1) is uploaded
      h.upload("up-r", "category=sneakers", new float[] {0, 0, 1});

      // Then recommendations blend attribute agreement with the retrieval similarity
      List<RecommendationsIssued> recs = h.recommendations.readValuesToList();
      assertThat(recs).hasSize(1);
      assertThat(recs.get(0).getProducts())
          .extracting(RankedProduct::getProductId)
          .containsExactly("p-black", "p-white", "p-jacket");
      assertThat(recs.get(0).getProducts().get(0).getSimilarity()).isCloseTo(1.0, within(1e-6));
      assertThat(recs.get(0).getProducts().get(2).getSimilarity()).isCloseTo(0.6, within(1e-6));
      // And the generation engine embedded nothing: the retrieval model did
      assertThat(h.engine.embedded).isEmpty();
      assertThat(h.retrieval.images).contains("catalog/p-white");
    }
  }

  @Test
  void shouldShowRelatedProductsOfThePhotosCategoryBesideAnAnswer() {
    try (SearchHarness h = harness()) {
      catalog(h);
      // Given a photo closest to the out-of-stock white sneaker
      h.upload("up-2", "", new float[] {0.9f, 0.1f, 0});

      // When the shopper asks about it
      QuestionAnswered a = h.ask("up-2", "q-1", "Does this come in other colours?");

      // Then the answer carries the sneakers (not the jacket), by image similarity, with colour
      // and stock
      List<ProductMatch> related = a.getRelatedProducts();
      assertThat(related)
          .extracting(ProductMatch::getProductId)
          .containsExactly("p-old", "p-white", "p-black");
      assertThat(related)
          .extracting(ProductMatch::getColour)
          .containsExactly("white", "white", "black");
      assertThat(related).extracting(ProductMatch::getInStock).containsExactly(false, true, true);
      assertThat(related.get(0).getReasons())
          .contains("same category as the photo's closest product: sneakers");
      assertThat(related.get(1).getImageSimilarity())
          .isCloseTo(0.9 / Math.sqrt(0.82), within(1e-6));
    }
  }

  @Test
  void shouldRemoveAnExpiredUploadsFeatureEverywhereWithATombstone() {
    ShopLensTopologyConfig shortLived =
        SearchHarness.config().uploadRetention(Duration.ofMinutes(1)).build();
    try (SearchHarness h = new SearchHarness(shortLived, stateDir)) {
      catalog(h);

      // Given an upload whose feature was published and can be searched with
      h.upload("up-1", "", new float[] {0, 0, 1});
      assertThat(h.uploadEmbeddings.readValuesToList()).hasSize(1);
      assertThat(h.search(request("s-1", null, "up-1").build()).getFailureReason()).isNull();

      // When its retention (questions can no longer be asked about it) runs out
      h.driver.advanceWallClockTime(Duration.ofMinutes(2));

      // Then its feature is removed with a tombstone keyed by the upload, which the global store
      // (and a compacted topic, and a vector store behind Connect) applies
      List<TestRecord<String, UploadEmbedding>> removed = h.uploadEmbeddings.readRecordsToList();
      assertThat(removed).hasSize(1);
      assertThat(removed.get(0).key()).isEqualTo("up-1");
      assertThat(removed.get(0).value()).isNull();
      assertThat(failure(h.search(request("s-2", null, "up-1").build())))
          .isEqualTo(SearchFailureReason.UNKNOWN_UPLOAD);
    }
  }

  @Test
  void shouldLeaveRelatedProductsEmptyWithoutCatalogFeaturesAndNullWhenOff() {
    ShopLensTopologyConfig off =
        SearchHarness.config()
            .retrieval(RetrievalConfig.builder().enabled(true).relatedProducts(0).build())
            .build();
    try (SearchHarness h = harness()) {
      h.upload("up-3", "", X);
      assertThat(h.ask("up-3", "q-1", "what is it?").getRelatedProducts()).isEmpty();
    }
    try (SearchHarness h = new SearchHarness(off, stateDir.resolve("off"))) {
      h.upload("up-3", "", X);
      assertThat(h.ask("up-3", "q-1", "what is it?").getRelatedProducts()).isNull();
    }
  }

  private static SearchFailureReason failure(ProductSearchResults r) {
    assertThat(r.getProducts()).isEmpty();
    assertThat(r.getFailureMessage()).isNotBlank();
    return r.getFailureReason();
  }
}
