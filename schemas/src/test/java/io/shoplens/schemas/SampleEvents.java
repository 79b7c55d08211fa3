package io.shoplens.schemas;

import io.shoplens.events.Attribute;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.DeadLetterHeader;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.FinishReason;
import io.shoplens.events.GarmentCategory;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.NoRecommendationsReason;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.Product;
import io.shoplens.events.ProductMatch;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.SearchFailureReason;
import io.shoplens.events.SearchFilters;
import io.shoplens.events.SearchMode;
import io.shoplens.events.StageTimings;
import io.shoplens.events.TokenCounts;
import io.shoplens.events.UploadEmbedding;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Test support: sample instances of every ShopLens event, for round trips, serde and interop tests.
 *
 * <p>{@code full*} methods set every optional field (nullable unions, arrays, maps) to a non-empty
 * value, except where the event's own rules forbid it (a non-empty recommendation list has no
 * emptyReason); {@code minimal*} methods set only what the schema requires, leaving every optional
 * field null and every array or map with a default empty. Each call returns a new instance with the
 * same values, so tests may mutate what they get. Timestamps have millisecond precision, as Avro's
 * {@code timestamp-millis} keeps, so that decoded values equal the originals.
 */
public final class SampleEvents {

  /** A fixed instant with millisecond precision: 2025-03-14T09:26:53.589Z. */
  public static final Instant T0 = Instant.ofEpochMilli(1_741_944_413_589L);

  private SampleEvents() {}

  /**
   * Every sample, keyed by {@code <Event>/<variant>}: {@code full} and {@code minimal} of each
   * event, plus {@code RecommendationsIssued/empty} and {@code ProductSearchResults/failed}.
   * Together they set every optional field of every event at least once and leave it unset at least
   * once.
   */
  public static Map<String, SpecificRecordBase> allSamples() {
    Map<String, SpecificRecordBase> all = new LinkedHashMap<>();
    allFull().forEach((name, event) -> all.put(name + "/full", event));
    allMinimal().forEach((name, event) -> all.put(name + "/minimal", event));
    all.put("RecommendationsIssued/empty", recommendationsIssuedEmpty());
    all.put("ProductSearchResults/failed", productSearchResultsFailed());
    return all;
  }

  /** Every event, fully populated, keyed by schema name (in the contract's order). */
  public static Map<String, SpecificRecordBase> allFull() {
    Map<String, SpecificRecordBase> all = new LinkedHashMap<>();
    all.put("ImageUploaded", imageUploadedFull());
    all.put("QuestionAsked", questionAskedFull());
    all.put("ImageCaptioned", imageCaptionedFull());
    all.put("QuestionAnswered", questionAnsweredFull());
    all.put("RecommendationsIssued", recommendationsIssuedFull());
    all.put("Product", productFull());
    all.put("ProductSearchRequested", productSearchRequestedFull());
    all.put("ProductSearchResults", productSearchResultsFull());
    all.put("DeadLetter", deadLetterFull());
    all.put("UploadEmbedding", uploadEmbeddingFull());
    return all;
  }

  /** Every event, minimally populated, keyed by schema name (in the contract's order). */
  public static Map<String, SpecificRecordBase> allMinimal() {
    Map<String, SpecificRecordBase> all = new LinkedHashMap<>();
    all.put("ImageUploaded", imageUploadedMinimal());
    all.put("QuestionAsked", questionAskedMinimal());
    all.put("ImageCaptioned", imageCaptionedMinimal());
    all.put("QuestionAnswered", questionAnsweredMinimal());
    all.put("RecommendationsIssued", recommendationsIssuedMinimal());
    all.put("Product", productMinimal());
    all.put("ProductSearchRequested", productSearchRequestedMinimal());
    all.put("ProductSearchResults", productSearchResultsMinimal());
    all.put("DeadLetter", deadLetterMinimal());
    all.put("UploadEmbedding", uploadEmbeddingMinimal());
    return all;
  }

  /** An upload with the image referenced by URI and a product id. */
  public static ImageUploaded imageUploadedFull() {
    return ImageUploaded.newBuilder()
        .setUploadId("upload-0001")
        .setUserId("user-42")
        .setProductId("sku-jacket-navy-m")
        .setImage(imageReference())
        .setUploadedAt(T0)
        .setCaptionOptions(generationOptionsFull())
        .build();
  }

  /** An upload with the image inline and no product id. */
  public static ImageUploaded imageUploadedMinimal() {
    return ImageUploaded.newBuilder()
        .setUploadId("upload-0002")
        .setUserId("user-43")
        .setImage(
            InlineImage.newBuilder()
                .setData(ByteBuffer.wrap(TINY_PNG))
                .setContentType("image/png")
                .build())
        .setUploadedAt(T0)
        .build();
  }

  /** A reference to a stored JPEG. */
  public static ImageReference imageReference() {
    return ImageReference.newBuilder()
        .setUri("https://images.example.com/uploads/upload-0001.jpg")
        .setSha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
        .setContentType("image/jpeg")
        .setSizeBytes(48_213L)
        .build();
  }

  /** Every generation option set (sampling with a seed, plus beam settings). */
  public static GenerationOptions generationOptionsFull() {
    return GenerationOptions.newBuilder()
        .setStrategy(DecodingStrategy.SAMPLE)
        .setMaxNewTokens(30)
        .setMinNewTokens(2)
        .setNumBeams(3)
        .setLengthPenalty(1.5)
        .setEarlyStopping(true)
        .setNumReturnSequences(2)
        .setTemperature(0.7)
        .setTopK(50)
        .setTopP(0.9)
        .setRepetitionPenalty(1.2)
        .setSeed(1234L)
        .build();
  }

  /** A question in a conversation, with every generation option set. */
  public static QuestionAsked questionAskedFull() {
    return QuestionAsked.newBuilder()
        .setQuestionId("question-0001")
        .setUploadId("upload-0001")
        .setUserId("user-42")
        .setConversationId("conversation-7")
        .setText("What material is this jacket made of? Ünïcödé ✓")
        .setGenerationOptions(generationOptionsFull())
        .setAskedAt(T0.plusMillis(1_500))
        .build();
  }

  /** A single question with service-default generation options. */
  public static QuestionAsked questionAskedMinimal() {
    return QuestionAsked.newBuilder()
        .setQuestionId("question-0002")
        .setUploadId("upload-0002")
        .setUserId("user-43")
        .setText("What color is it?")
        .setAskedAt(T0.plusMillis(1_500))
        .build();
  }

  /** A caption with alternatives, scored attributes and a replay run id. */
  public static ImageCaptioned imageCaptionedFull() {
    return ImageCaptioned.newBuilder()
        .setUploadId("upload-0001")
        .setUserId("user-42")
        .setCaption("a navy blue denim jacket on a hanger")
        .setAlternativeCaptions(List.of("a blue jacket", "a denim jacket hanging on a wall"))
        .setAttributes(
            List.of(
                Attribute.newBuilder()
                    .setName("color")
                    .setValue("navy blue")
                    .setScore(0.92)
                    .build(),
                Attribute.newBuilder()
                    .setName("material")
                    .setValue("denim")
                    .setScore(0.81)
                    .build()))
        .setFinishReason(FinishReason.EOS)
        .setTokenCounts(tokenCounts())
        .setModel(model())
        .setLineage(lineageReplay("shoplens.image-uploads.v1"))
        .setTimings(timings())
        .setCaptionedAt(T0.plusMillis(2_000))
        .build();
  }

  /** A caption without alternatives or attributes, from the first (live) run. */
  public static ImageCaptioned imageCaptionedMinimal() {
    return ImageCaptioned.newBuilder()
        .setUploadId("upload-0002")
        .setUserId("user-43")
        .setCaption("a red dress")
        .setFinishReason(FinishReason.LENGTH)
        .setTokenCounts(tokenCounts())
        .setModel(model())
        .setLineage(lineageLive("shoplens.image-uploads.v1"))
        .setTimings(timings())
        .setCaptionedAt(T0.plusMillis(2_000))
        .build();
  }

  /** An answer with alternatives, the options used and a replay run id. */
  public static QuestionAnswered questionAnsweredFull() {
    return QuestionAnswered.newBuilder()
        .setQuestionId("question-0001")
        .setUploadId("upload-0001")
        .setUserId("user-42")
        .setConversationId("conversation-7")
        .setAnswer("denim")
        .setAlternatives(List.of("cotton denim"))
        .setFinishReason(FinishReason.EOS)
        .setTokenCounts(tokenCounts())
        .setGenerationOptions(generationOptionsFull())
        .setModel(model())
        .setLineage(lineageReplay("shoplens.questions.v1"))
        .setTimings(timings())
        .setAnsweredAt(T0.plusMillis(3_000))
        .setRelatedProducts(List.of(productMatchFull(), productMatchMinimal()))
        .build();
  }

  /** A single answer from the first (live) run, options not reported. */
  public static QuestionAnswered questionAnsweredMinimal() {
    return QuestionAnswered.newBuilder()
        .setQuestionId("question-0002")
        .setUploadId("upload-0002")
        .setUserId("user-43")
        .setAnswer("red")
        .setFinishReason(FinishReason.STOP)
        .setTokenCounts(tokenCounts())
        .setModel(model())
        .setLineage(lineageLive("shoplens.questions.v1"))
        .setTimings(timings())
        .setAnsweredAt(T0.plusMillis(3_000))
        .build();
  }

  /**
   * Two ranked products for a try-on eligible garment. Its emptyReason is null, as the list is not
   * empty: {@link #recommendationsIssuedEmpty()} covers that field.
   */
  public static RecommendationsIssued recommendationsIssuedFull() {
    return RecommendationsIssued.newBuilder()
        .setUploadId("upload-0001")
        .setUserId("user-42")
        .setProducts(
            List.of(
                RankedProduct.newBuilder()
                    .setProductId("sku-jacket-navy-m")
                    .setRank(1)
                    .setScore(0.87)
                    .setReasons(List.of("same color: navy blue", "same material: denim"))
                    .setMatchedAttributes(List.of("color", "material"))
                    .setSimilarity(0.74)
                    .build(),
                RankedProduct.newBuilder()
                    .setProductId("sku-jacket-black-m")
                    .setRank(2)
                    .setScore(0.55)
                    .setReasons(List.of("same material: denim"))
                    .setMatchedAttributes(List.of("material"))
                    .build()))
        .setAttributes(
            List.of(
                Attribute.newBuilder().setName("color").setValue("navy blue").setScore(0.9).build(),
                Attribute.newBuilder().setName("material").setValue("denim").build()))
        .setGarmentCategory(GarmentCategory.UPPER_BODY)
        .setTryOnEligible(true)
        .setModel(model())
        .setLineage(lineageReplay("shoplens.captions.v1"))
        .setIssuedAt(T0.plusMillis(4_000))
        .build();
  }

  /** No products, with the reason: the image does not show a garment. */
  public static RecommendationsIssued recommendationsIssuedEmpty() {
    return RecommendationsIssued.newBuilder()
        .setUploadId("upload-0003")
        .setUserId("user-44")
        .setGarmentCategory(GarmentCategory.NOT_A_GARMENT)
        .setTryOnEligible(false)
        .setEmptyReason(NoRecommendationsReason.NOT_A_GARMENT)
        .setModel(model())
        .setLineage(lineageLive("shoplens.captions.v1"))
        .setIssuedAt(T0.plusMillis(4_000))
        .build();
  }

  /**
   * Required fields only: no products, so the list defaults to empty; the schema allows a null
   * emptyReason even then (only the producer's rule asks for one).
   */
  public static RecommendationsIssued recommendationsIssuedMinimal() {
    return RecommendationsIssued.newBuilder()
        .setUploadId("upload-0002")
        .setUserId("user-43")
        .setModel(model())
        .setLineage(lineageLive("shoplens.captions.v1"))
        .setIssuedAt(T0.plusMillis(4_000))
        .build();
  }

  /** A product with attributes, image, stock quantity and update time. */
  public static Product productFull() {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("color", "navy blue");
    attributes.put("material", "denim");
    return Product.newBuilder()
        .setProductId("sku-jacket-navy-m")
        .setTitle("Denim jacket, navy, M")
        .setCategory("men/outerwear/jackets")
        .setAttributes(attributes)
        .setImage(imageReference())
        .setStockQuantity(12)
        .setInStock(true)
        .setUpdatedAt(T0.minusSeconds(3_600))
        .build();
  }

  /** A product the catalog knows little about. */
  public static Product productMinimal() {
    return Product.newBuilder()
        .setProductId("sku-unknown")
        .setTitle("Untitled")
        .setCategory("uncategorized")
        .setInStock(false)
        .build();
  }

  /** A search by text and image with a category filter. */
  public static ProductSearchRequested productSearchRequestedFull() {
    return ProductSearchRequested.newBuilder()
        .setRequestId("search-0001")
        .setUserId("user-42")
        .setQuery("navy denim jacket")
        .setUploadId("upload-0001")
        .setFilters(SearchFilters.newBuilder().setCategory("jacket").setInStockOnly(false).build())
        .setLimit(5)
        .setRequestedAt(T0.plusMillis(5_000))
        .build();
  }

  /** Required fields only: neither text nor image (a search ShopLens refuses, with a reason). */
  public static ProductSearchRequested productSearchRequestedMinimal() {
    return ProductSearchRequested.newBuilder()
        .setRequestId("search-0002")
        .setUserId("user-43")
        .setRequestedAt(T0.plusMillis(5_000))
        .build();
  }

  /** Two products found by text and image. */
  public static ProductSearchResults productSearchResultsFull() {
    return ProductSearchResults.newBuilder()
        .setRequestId("search-0001")
        .setUserId("user-42")
        .setQuery("navy denim jacket")
        .setUploadId("upload-0001")
        .setMode(SearchMode.TEXT_AND_IMAGE)
        .setProducts(List.of(productMatchFull(), productMatchMinimal()))
        .setModel(retrievalModel())
        .setLineage(lineageReplay("shoplens.search-requests.v1"))
        .setSearchedAt(T0.plusMillis(5_100))
        .build();
  }

  /** A search that could not run, with its reason. */
  public static ProductSearchResults productSearchResultsFailed() {
    return ProductSearchResults.newBuilder()
        .setRequestId("search-0003")
        .setUserId("user-44")
        .setQuery("")
        .setFailureReason(SearchFailureReason.EMPTY_QUERY)
        .setFailureMessage("query is empty and no uploadId is given")
        .setModel(retrievalModel())
        .setLineage(lineageLive("shoplens.search-requests.v1"))
        .setSearchedAt(T0.plusMillis(5_100))
        .build();
  }

  /** Required fields only: a search that found nothing. */
  public static ProductSearchResults productSearchResultsMinimal() {
    return ProductSearchResults.newBuilder()
        .setRequestId("search-0002")
        .setUserId("user-43")
        .setModel(retrievalModel())
        .setLineage(lineageLive("shoplens.search-requests.v1"))
        .setSearchedAt(T0.plusMillis(5_100))
        .build();
  }

  /** A four-dimensional unit feature of a replayed upload (real ones have 256 dimensions). */
  public static UploadEmbedding uploadEmbeddingFull() {
    return UploadEmbedding.newBuilder()
        .setUploadId("upload-0001")
        .setUserId("user-42")
        .setDimensions(4)
        .setVector(List.of(0.5f, -0.5f, 0.5f, -0.5f))
        .setModel(retrievalModel())
        .setLineage(lineageReplay("shoplens.image-uploads.v1"))
        .setEmbeddedAt(T0.plusMillis(1_200))
        .build();
  }

  /**
   * Every field is required; the vector empty, which ShopLens never publishes but the schema allows
   * (so that the samples leave every array empty once).
   */
  public static UploadEmbedding uploadEmbeddingMinimal() {
    return UploadEmbedding.newBuilder()
        .setUploadId("upload-0002")
        .setUserId("user-43")
        .setDimensions(0)
        .setVector(List.of())
        .setModel(retrievalModel())
        .setLineage(lineageLive("shoplens.image-uploads.v1"))
        .setEmbeddedAt(T0.plusMillis(1_200))
        .build();
  }

  /** A product matched by text and image, with category, colour and reasons. */
  public static ProductMatch productMatchFull() {
    return ProductMatch.newBuilder()
        .setProductId("sku-jacket-navy-m")
        .setRank(1)
        .setScore(0.61)
        .setTextSimilarity(0.42)
        .setImageSimilarity(0.8)
        .setTitle("Denim jacket, navy, M")
        .setCategory("jacket")
        .setColour("navy blue")
        .setInStock(true)
        .setReasons(List.of("text similarity 0.420", "image similarity 0.800"))
        .build();
  }

  /** A product with nothing optional known. */
  public static ProductMatch productMatchMinimal() {
    return ProductMatch.newBuilder()
        .setProductId("sku-unknown")
        .setRank(2)
        .setScore(0.1)
        .setTitle("Untitled")
        .setInStock(false)
        .build();
  }

  /** A dead letter with key, value, headers (one without a value) and source timestamp. */
  public static DeadLetter deadLetterFull() {
    return DeadLetter.newBuilder()
        .setSourceTopic("shoplens.image-uploads.v1")
        .setSourcePartition(3)
        .setSourceOffset(1_234_567L)
        .setSourceTimestamp(T0)
        .setKey(ByteBuffer.wrap("upload-0001".getBytes(StandardCharsets.UTF_8)))
        .setValue(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 7, (byte) 0xff, (byte) 0xfe}))
        .setHeaders(
            List.of(
                DeadLetterHeader.newBuilder()
                    .setName("traceparent")
                    .setValue(
                        ByteBuffer.wrap(
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                                .getBytes(StandardCharsets.UTF_8)))
                    .build(),
                DeadLetterHeader.newBuilder().setName("empty").build()))
        .setErrorClass("org.apache.kafka.common.errors.SerializationException")
        .setErrorMessage("Unknown magic byte 7 on topic shoplens.image-uploads.v1")
        .setStage(ProcessingStage.DESERIALIZE)
        .setAttempts(1)
        .setFailedAt(T0.plusMillis(10))
        .build();
  }

  /** A dead letter for a tombstone without key or headers. */
  public static DeadLetter deadLetterMinimal() {
    return DeadLetter.newBuilder()
        .setSourceTopic("shoplens.questions.v1")
        .setSourcePartition(0)
        .setSourceOffset(0L)
        .setErrorClass("java.lang.IllegalArgumentException")
        .setErrorMessage("question text is empty")
        .setStage(ProcessingStage.VALIDATE)
        .setAttempts(3)
        .setFailedAt(T0.plusMillis(10))
        .build();
  }

  private static TokenCounts tokenCounts() {
    return TokenCounts.newBuilder()
        .setPromptTokens(9)
        .setImageTokens(32)
        .setGeneratedTokens(7)
        .build();
  }

  private static ModelInfo model() {
    return ModelInfo.newBuilder()
        .setModelId("shoplens/tiny-blip2-opt")
        .setModelVersion("tiny-blip2-opt-s1234-3f9a0c1d")
        .build();
  }

  private static ModelInfo retrievalModel() {
    return ModelInfo.newBuilder()
        .setModelId("shoplens/tiny-blip2-retrieval")
        .setModelVersion("tiny-blip2-retrieval-s1234-c717acb9")
        .build();
  }

  private static StageTimings timings() {
    return StageTimings.newBuilder()
        .setQueueMs(3)
        .setPreprocessMs(4)
        .setVisionMs(0)
        .setVisionCacheHit(true)
        .setPrefillMs(12)
        .setDecodeMs(85)
        .build();
  }

  private static Lineage lineageReplay(String topic) {
    return Lineage.newBuilder()
        .setSourceTopic(topic)
        .setSourcePartition(3)
        .setSourceOffset(1_234_567L)
        .setReplayRunId("replay-2025-03-14-model-v2")
        .build();
  }

  private static Lineage lineageLive(String topic) {
    return Lineage.newBuilder()
        .setSourceTopic(topic)
        .setSourcePartition(0)
        .setSourceOffset(42L)
        .build();
  }

  /** A valid 1x1 PNG, so that consumers that decode the image can. */
  private static final byte[] TINY_PNG = {
    -119, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0,
    0, 0, 31, 21, -60, -119, 0, 0, 0, 11, 73, 68, 65, 84, 120, -100, 99, 96, 0, 2, 0, 0, 5, 0, 1,
    122, 94, -85, 63, 0, 0, 0, 0, 73, 69, 78, 68, -82, 66, 96, -126
  };
}
