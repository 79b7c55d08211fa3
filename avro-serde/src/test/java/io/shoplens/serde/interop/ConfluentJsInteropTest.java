package io.shoplens.serde.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.registry.SchemaRegistryClient;
import io.shoplens.registry.SchemaRegistryClientConfig;
import io.shoplens.schemas.EventContract;
import io.shoplens.schemas.SampleEvents;
import io.shoplens.serde.KafkaAvroDeserializer;
import io.shoplens.serde.KafkaAvroSerDeConfig;
import io.shoplens.serde.KafkaAvroSerializer;
import io.shoplens.serde.interop.ConfluentJsHarness.Longs;
import io.shoplens.serde.interop.ConfluentJsHarness.Result;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Proves wire compatibility with Confluent's official JavaScript Avro serde ({@code
 * @confluentinc/schemaregistry}, pinned in {@code src/test/js/package.json}), run in Node through
 * its {@code MockClient}.
 *
 * <p>For every ShopLens event, fully and minimally populated ({@link SampleEvents}), and for
 * hand-made edge records ({@link EdgeRecords}): Confluent's serializer writes the record and ours
 * reads it into an equal value; ours writes it and Confluent's deserializer reads an equal value
 * (compared as canonical JSON, see {@link CanonicalAvroJson}); and both write the very same bytes.
 * Both registries get the same schemas under the same subjects in the same order, so their ids
 * (each starting at 1) agree, which the test checks rather than assumes.
 *
 * <p>The whole job runs in one {@code node} process per JavaScript long representation: avsc's
 * default (JS numbers, what a JS producer gets out of the box) and BigInt (for the full long range).
 * Needs {@code npm ci --prefix avro-serde/src/test/js}; fails, and is never skipped, without it.
 */
class ConfluentJsInteropTest {

  /** Topic of each event, as in ARCHITECTURE.md (subjects follow Confluent's TopicNameStrategy). */
  private static final Map<String, String> TOPICS =
      Map.of(
          "ImageUploaded", "shoplens.image-uploads.v1",
          "QuestionAsked", "shoplens.questions.v1",
          "ImageCaptioned", "shoplens.captions.v1",
          "QuestionAnswered", "shoplens.answers.v1",
          "RecommendationsIssued", "shoplens.recommendations.v1",
          "Product", "shoplens.catalog.products.v1",
          "ProductSearchRequested", "shoplens.search-requests.v1",
          "ProductSearchResults", "shoplens.search-results.v1",
          "DeadLetter", "shoplens.dead-letters.v1",
          "UploadEmbedding", "shoplens.upload-embeddings.v1");

  /**
   * One record to send both ways, under the JS long representation it can be held in; {@code
   * sameBytes} is false only where a JS object reorders map entries (see {@link EdgeRecords}).
   */
  record Case(String name, SpecificRecord value, Longs longs, boolean sameBytes) {
    String topic() {
      return TOPICS.get(value.getSchema().getName());
    }

    Schema schema() {
      return value.getSchema();
    }

    @Override
    public String toString() {
      return name + " [JS longs: " + longs.name().toLowerCase() + "]";
    }
  }

  @TempDir static Path work;

  private static String scope;
  private static SchemaRegistryClient registry;
  private static final Map<String, Integer> OUR_IDS = new LinkedHashMap<>();
  private static final Map<String, byte[]> OUR_BYTES = new LinkedHashMap<>();
  private static final Map<Longs, Result> JS = new EnumMap<>(Longs.class);
  private static KafkaAvroSerializer serializer;
  private static KafkaAvroDeserializer deserializer;

  static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    for (Longs longs : Longs.values()) {
      SampleEvents.allSamples()
          .forEach((name, event) -> cases.add(new Case(name, event, longs, true)));
    }
    for (EdgeRecords.Edge edge : EdgeRecords.all()) {
      String name = "edge/" + edge.name();
      cases.add(new Case(name, edge.value(), Longs.BIGINT, edge.sameBytes()));
      if (!edge.needsBigIntLongs()) {
        cases.add(new Case(name, edge.value(), Longs.NUMBER, edge.sameBytes()));
      }
    }
    return cases;
  }

  /** Edge records whose longs avsc's default long refuses, for the default-config check. */
  static Stream<Case> bigLongCases() {
    return EdgeRecords.all().stream()
        .filter(EdgeRecords.Edge::needsBigIntLongs)
        .map(e -> new Case("edge/" + e.name(), e.value(), Longs.NUMBER, e.sameBytes()));
  }

  @BeforeAll
  static void runBothSerdes() throws Exception {
    // Given the same schemas registered in the same order on both sides
    scope = "interop-" + UUID.randomUUID();
    registry = MockSchemaRegistry.getClientForScope(scope);
    Map<String, String> schemas = new LinkedHashMap<>();
    SampleEvents.allFull()
        .forEach(
            (name, event) ->
                schemas.put(TOPICS.get(name) + "-value", event.getSchema().toString()));
    for (Map.Entry<String, String> s : schemas.entrySet()) {
      OUR_IDS.put(
          s.getKey(), registry.register(s.getKey(), new Schema.Parser().parse(s.getValue())));
    }
    // Confluent's defaults otherwise: auto.register.schemas=true finds the registered schema
    String url = MockSchemaRegistry.MOCK_URL_PREFIX + scope;
    serializer = new KafkaAvroSerializer();
    serializer.configure(Map.of(SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG, url), false);
    deserializer = new KafkaAvroDeserializer();
    deserializer.configure(
        Map.of(
            SchemaRegistryClientConfig.SCHEMA_REGISTRY_URL_CONFIG,
            url,
            KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG,
            true),
        false);

    Map<Longs, ConfluentJsHarness> harnesses = new EnumMap<>(Longs.class);
    for (Longs longs : Longs.values()) {
      ConfluentJsHarness harness = new ConfluentJsHarness(longs);
      schemas.forEach(harness::register);
      harnesses.put(longs, harness);
    }

    // When each record is written by each side and read by the other
    List<Case> all = new ArrayList<>(cases());
    all.addAll(bigLongCases().toList());
    for (Case c : all) {
      byte[] ours = serializer.serialize(c.topic(), c.value());
      OUR_BYTES.put(c.name(), ours);
      harnesses
          .get(c.longs())
          .deserialize(c.name(), c.topic(), ours)
          .serialize(c.name(), c.topic(), CanonicalAvroJson.of(c.schema(), c.value()));
    }
    for (Map.Entry<Longs, ConfluentJsHarness> h : harnesses.entrySet()) {
      JS.put(h.getKey(), h.getValue().run(work));
    }
  }

  @AfterAll
  static void dropRegistry() {
    if (serializer != null) {
      serializer.close();
    }
    if (deserializer != null) {
      deserializer.close();
    }
    MockSchemaRegistry.dropScope(scope);
  }

  @Test
  void shouldCoverEveryEventOfTheContractFullyAndMinimallyPopulated() {
    // A new event in the contract fails here until it has a topic and samples
    assertThat(TOPICS).containsOnlyKeys(EventContract.EVENTS.keySet());
    assertThat(SampleEvents.allFull()).containsOnlyKeys(EventContract.EVENTS.keySet());
    assertThat(SampleEvents.allMinimal()).containsOnlyKeys(EventContract.EVENTS.keySet());
  }

  @Test
  void shouldGetTheSameSchemaIdsFromConfluentsMockClientAsFromOurRegistry() {
    // Then the JS MockClient, fed the same registrations in the same order, agrees on every id
    assertThat(OUR_IDS.values()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    for (Result result : JS.values()) {
      assertThat(result.registeredIds()).containsExactlyEntriesOf(OUR_IDS);
      assertThat(result.packageVersion()).startsWith("@confluentinc/schemaregistry@");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldReadBytesWrittenByConfluentJsIntoEqualValues(Case c) {
    // Given the bytes Confluent's AvroSerializer wrote
    byte[] confluent = JS.get(c.longs()).serialized(c.name());

    // When our deserializer reads them
    Object read = deserializer.deserialize(c.topic(), confluent);

    // Then the value equals the original, as Java objects and as canonical JSON
    assertThat(read).isInstanceOf(c.value().getClass()).isEqualTo(c.value());
    assertThat(CanonicalAvroJson.of(c.schema(), read))
        .isEqualTo(CanonicalAvroJson.of(c.schema(), c.value()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldBeReadByConfluentJsIntoEqualValues(Case c) {
    // Given the bytes our serializer wrote, When Confluent's AvroDeserializer reads them
    JsonNode read = JS.get(c.longs()).deserialized(c.name());

    // Then the value it holds equals the original
    assertThat(read).isEqualTo(CanonicalAvroJson.of(c.schema(), c.value()));
  }

  static Stream<Case> sameBytesCases() {
    return cases().stream().filter(Case::sameBytes);
  }

  static Stream<Case> reorderedMapCases() {
    return cases().stream().filter(c -> !c.sameBytes());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sameBytesCases")
  void shouldWriteTheSameBytesAsConfluentJs(Case c) {
    // Avro binary encoding is deterministic for a given schema and value (maps: given the entry
    // order, which the canonical JSON keeps), and both sides frame it as byte 0 + 4-byte id.
    byte[] confluent = JS.get(c.longs()).serialized(c.name());
    byte[] ours = OUR_BYTES.get(c.name());

    assertThat(HexFormat.of().formatHex(ours))
        .as("our bytes vs Confluent JS bytes for %s", c)
        .isEqualTo(HexFormat.of().formatHex(confluent));
    assertThat(ours[0]).as("magic byte").isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("reorderedMapCases")
  void shouldWriteMapEntriesInTheContainersOrderSoJsMayReorderIntegerLikeKeys(Case c) {
    // Avro writes map entries in the order the container iterates them; a JS object iterates
    // integer-like keys first. The values are equal both ways (the tests above); the bytes hold
    // the same entries in another order. Byte-for-byte comparison of Avro maps is not a contract.
    byte[] confluent = JS.get(c.longs()).serialized(c.name());
    byte[] ours = OUR_BYTES.get(c.name());

    assertThat(confluent).hasSameSizeAs(ours).isNotEqualTo(ours);
    assertThat(Arrays.copyOf(confluent, 5)).as("same header").isEqualTo(Arrays.copyOf(ours, 5));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("bigLongCases")
  void shouldBeRefusedNotRoundedByConfluentJsDefaultLongsBeyondItsRange(Case c) {
    // Given our bytes holding longs beyond avsc's default range (|n| <= 2^53 - 2), When Confluent's
    // deserializer reads them with avsc's default JS-number longs, Then it fails loudly rather than
    // returning a rounded value: JS consumers of such events need a BigInt long type (BIGINT run).
    assertThat(JS.get(Longs.NUMBER).deserializeError(c.name()))
        .as("Confluent JS default-config error for %s", c)
        .contains("potential precision loss");
  }
}
