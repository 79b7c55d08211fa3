package io.shoplens.serde.interop;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.DeadLetterHeader;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GarmentCategory;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.Lineage;
import io.shoplens.events.ModelInfo;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.Product;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RankedProduct;
import io.shoplens.events.RecommendationsIssued;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * Hand-made records at the edges of what the contract allows, where two Avro implementations are
 * most likely to disagree: non-ASCII text, empty bytes, the extremes of long timestamps, IEEE-754
 * special values, and unions nested in records nested in unions.
 */
final class EdgeRecords {

  private EdgeRecords() {}

  /** Strings outside the Basic Multilingual Plane, combining marks, right-to-left text, NUL. */
  static QuestionAsked unicodeQuestion() {
    return QuestionAsked.newBuilder()
        .setQuestionId("q-\u00fc\u00df-\u6f22\u5b57")
        .setUploadId("u-\ud83d\udc57") // U+1F457 DRESS, a surrogate pair in UTF-16
        .setUserId("")
        .setConversationId("\u0000nul\u0000inside")
        .setText(
            "Does this \ud83d\udc57 come in \u65e5\u672c\u8a9e sizes? \u05e2\u05d1\u05e8\u05d9\u05ea"
                + " e\u0301 \u00e9 \ud834\udd1e \uffff \u2028 line\nbreak \"quoted\" \\")
        .setGenerationOptions(null)
        .setAskedAt(Instant.ofEpochMilli(1_700_000_000_123L))
        .build();
  }

  /** Zero-length bytes everywhere bytes appear, next to null bytes. */
  static DeadLetter emptyBytes() {
    return DeadLetter.newBuilder()
        .setSourceTopic("shoplens.image-uploads.v1")
        .setSourcePartition(0)
        .setSourceOffset(0L)
        .setSourceTimestamp(Instant.EPOCH)
        .setKey(ByteBuffer.wrap(new byte[0]))
        .setValue(ByteBuffer.wrap(new byte[0]))
        .setHeaders(
            List.of(
                header("empty", new byte[0]),
                header("absent", null),
                header("binary", new byte[] {0, (byte) 0xff, (byte) 0x80, 0x7f, 1})))
        .setErrorClass("org.apache.kafka.common.errors.SerializationException")
        .setErrorMessage("Unknown magic byte!")
        .setStage(ProcessingStage.DESERIALIZE)
        .setAttempts(1)
        .setFailedAt(Instant.ofEpochMilli(1L))
        .build();
  }

  /** An inline image whose bytes are empty (the first branch of a union of two records). */
  static ImageUploaded emptyInlineImage() {
    return ImageUploaded.newBuilder()
        .setUploadId("u-empty")
        .setUserId("shopper-1")
        .setProductId(null)
        .setImage(
            InlineImage.newBuilder()
                .setData(ByteBuffer.wrap(new byte[0]))
                .setContentType("image/png")
                .build())
        .setUploadedAt(Instant.ofEpochMilli(-1L)) // just before the epoch
        .build();
  }

  /**
   * Long.MAX_VALUE and Long.MIN_VALUE as timestamp-millis and offsets: beyond 2^53, which a
   * JavaScript number cannot hold.
   */
  static DeadLetter extremeLongs() {
    return DeadLetter.newBuilder()
        .setSourceTopic("t")
        .setSourcePartition(Integer.MAX_VALUE)
        .setSourceOffset(Long.MAX_VALUE)
        .setSourceTimestamp(Instant.ofEpochMilli(Long.MIN_VALUE))
        .setKey(null)
        .setValue(null)
        .setHeaders(List.of())
        .setErrorClass("java.lang.ArithmeticException")
        .setErrorMessage("long overflow")
        .setStage(ProcessingStage.UNKNOWN)
        .setAttempts(Integer.MIN_VALUE)
        .setFailedAt(Instant.ofEpochMilli(Long.MAX_VALUE))
        .build();
  }

  /** Longs beyond avsc's default range in union branches, nested in a record in a union. */
  static QuestionAsked extremeNestedUnionLongs() {
    return QuestionAsked.newBuilder()
        .setQuestionId("q-seed")
        .setUploadId("u-1")
        .setUserId("shopper-1")
        .setConversationId(null)
        .setText("again?")
        .setGenerationOptions(
            GenerationOptions.newBuilder()
                .setStrategy(DecodingStrategy.SAMPLE)
                // 2^53 - 1 is a safe JS integer, yet avsc's default long refuses it: it only
                // takes |n| <= 2^53 - 2.
                .setSeed(9_007_199_254_740_991L)
                .build())
        .setAskedAt(Instant.ofEpochMilli(Long.MAX_VALUE))
        .build();
  }

  /**
   * Unions nested three deep: QuestionAsked.generationOptions (union) holds a record whose every
   * field is itself a union, all set, with doubles that decimal printing would get wrong.
   */
  static QuestionAsked nestedUnions() {
    return QuestionAsked.newBuilder()
        .setQuestionId("q-nested")
        .setUploadId("u-nested")
        .setUserId("shopper-2")
        .setConversationId("c-1")
        .setText("What material is it?")
        .setGenerationOptions(
            GenerationOptions.newBuilder()
                .setStrategy(DecodingStrategy.BEAM)
                .setMaxNewTokens(Integer.MAX_VALUE)
                .setMinNewTokens(0)
                .setNumBeams(-1)
                .setLengthPenalty(-0.0)
                .setEarlyStopping(false)
                .setNumReturnSequences(Integer.MIN_VALUE)
                .setTemperature(Double.MIN_VALUE) // smallest subnormal
                .setTopK(0)
                .setTopP(0.1 + 0.2) // 0.30000000000000004
                .setRepetitionPenalty(Double.MAX_VALUE)
                .setSeed(-1L)
                .build())
        .setAskedAt(Instant.ofEpochMilli(0L))
        .build();
  }

  /** The second branch of the image union (a reference), and a product whose union fields vary. */
  static ImageUploaded referencedImage() {
    return ImageUploaded.newBuilder()
        .setUploadId("u-ref")
        .setUserId("shopper-3")
        .setProductId("p-\u00e9t\u00e9")
        .setImage(imageReference())
        .setUploadedAt(Instant.ofEpochMilli(253_402_300_799_999L)) // 9999-12-31T23:59:59.999Z
        .build();
  }

  /** Map keys in a non-sorted insertion order, empty and non-ASCII keys, and a nested union. */
  static Product productWithMap() {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("size", "M");
    attributes.put("color", "navy blue");
    attributes.put("", "empty key");
    attributes.put("mat\u00e9riau", "coton \ud83e\uddf5");
    return Product.newBuilder()
        .setProductId("p-1")
        .setTitle("T-shirt")
        .setCategory("women/tops/t-shirts")
        .setAttributes(attributes)
        .setImage(imageReference())
        .setStockQuantity(0)
        .setInStock(false)
        .setUpdatedAt(null)
        .build();
  }

  /**
   * Map keys that look like array indexes. A JavaScript object lists such keys first, in numeric
   * order, whatever order they were inserted in, so Confluent's JS serializer writes these entries
   * in another order than a Java LinkedHashMap does: equal maps, different bytes.
   */
  static Product productWithIntegerLikeMapKeys() {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("size", "M");
    attributes.put("10", "ten");
    attributes.put("2", "two");
    return Product.newBuilder()
        .setProductId("p-2")
        .setTitle("Socks")
        .setCategory("men/socks")
        .setAttributes(attributes)
        .setImage(null)
        .setStockQuantity(null)
        .setInStock(true)
        .setUpdatedAt(Instant.ofEpochMilli(1_741_944_413_589L))
        .build();
  }

  /** Doubles at IEEE-754 edges, arrays of records holding arrays, an enum at its last symbol. */
  static RecommendationsIssued specialDoubles() {
    return RecommendationsIssued.newBuilder()
        .setUploadId("u-doubles")
        .setUserId("shopper-4")
        .setProducts(
            List.of(
                ranked("nan", 1, Double.NaN, List.of()),
                ranked("inf", 2, Double.POSITIVE_INFINITY, List.of("", "\u2603")),
                ranked("-inf", 3, Double.NEGATIVE_INFINITY, List.of("x")),
                ranked("max", 4, Double.MAX_VALUE, List.of()),
                ranked("-0", 5, -0.0, List.of())))
        .setGarmentCategory(GarmentCategory.NOT_A_GARMENT)
        .setTryOnEligible(true)
        .setEmptyReason(null)
        .setModel(ModelInfo.newBuilder().setModelId("m").setModelVersion("1").build())
        .setLineage(
            Lineage.newBuilder()
                .setSourceTopic("shoplens.captions.v1")
                .setSourcePartition(3)
                .setSourceOffset(Long.MAX_VALUE >> 11) // exactly 2^52 - 1: fits a JS number
                .setReplayRunId("")
                .build())
        // 2^53 - 2: the largest long avsc holds as a JS number by default
        .setIssuedAt(Instant.ofEpochMilli(9_007_199_254_740_990L))
        .build();
  }

  private static RankedProduct ranked(String id, int rank, double score, List<String> reasons) {
    return RankedProduct.newBuilder()
        .setProductId(id)
        .setRank(rank)
        .setScore(score)
        .setReasons(reasons)
        .build();
  }

  private static ImageReference imageReference() {
    return ImageReference.newBuilder()
        .setUri("https://images.example.com/\u00e9t\u00e9/1.jpg?x=1&y=%20")
        .setSha256("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        .setContentType("image/jpeg")
        .setSizeBytes(0L)
        .build();
  }

  private static DeadLetterHeader header(String name, byte[] value) {
    return DeadLetterHeader.newBuilder()
        .setName(name)
        .setValue(value == null ? null : ByteBuffer.wrap(value))
        .build();
  }

  /**
   * A named edge record.
   *
   * @param needsBigIntLongs it holds a long that avsc's default JS-number long refuses
   * @param sameBytes both serializers write the same bytes for it (false: map entry order differs)
   */
  record Edge(String name, SpecificRecord value, boolean needsBigIntLongs, boolean sameBytes) {}

  /** Every edge record; those with longs beyond 2^53 say so. */
  static List<Edge> all() {
    return List.of(
        new Edge("unicode-question", unicodeQuestion(), false, true),
        new Edge("empty-bytes", emptyBytes(), false, true),
        new Edge("empty-inline-image", emptyInlineImage(), false, true),
        new Edge("nested-unions", nestedUnions(), false, true),
        new Edge("referenced-image", referencedImage(), false, true),
        new Edge("product-with-map", productWithMap(), false, true),
        new Edge("integer-like-map-keys", productWithIntegerLikeMapKeys(), false, false),
        new Edge("special-doubles", specialDoubles(), false, true),
        new Edge("extreme-longs", extremeLongs(), true, true),
        new Edge("extreme-nested-union-longs", extremeNestedUnionLongs(), true, true));
  }
}
