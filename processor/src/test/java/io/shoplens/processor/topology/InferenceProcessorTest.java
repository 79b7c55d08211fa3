package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.events.QuestionAnswered;
import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.testing.FakeEngine;
import io.shoplens.processor.topology.InferenceJob.Kind;
import io.shoplens.processor.topology.StoredState.StoredUpload;
import io.shoplens.processor.topology.jobs.InFlightLimiter;
import io.shoplens.registry.MockSchemaRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link InferenceProcessor} on the job protocol, with {@link MockProcessorContext}: a question job
 * restored from the in-flight store is rebuilt from its stored input and upload, and its answer
 * forwarded once with its lineage. (The protocol itself, for any job, is covered by {@code
 * AsyncJobsTest}.)
 *
 * <p>This stands in for "close the test driver with its state kept and reopen": {@code
 * TopologyTestDriver.close()} deletes its state directory, and under exactly-once a real restart
 * restores the store from its changelog, which the test driver does not do. The restart through the
 * changelog is exercised on a real broker by the integration tests.
 */
class InferenceProcessorTest {
  private final String scope = "inference-processor-" + UUID.randomUUID();
  private ShopLensTopologyConfig config;
  private Topics topics;
  private KeyValueStore<String, InferenceJob> inFlight;
  private KeyValueStore<String, StoredUpload> uploads;
  private List<KeyValueStore<?, ?>> stores;

  @BeforeEach
  void setUp() {
    config =
        ShopLensTopologyConfig.builder(TopologyHarness.serdeConfig(scope))
            .modelId("shoplens/fake")
            .storeType(ShopLensTopologyConfig.StoreType.IN_MEMORY)
            .inFlightMaxBlock(Duration.ZERO)
            .build();
    topics = Topics.create(config.serdeConfig());
    MockProcessorContext<String, InferenceOutput> first = new MockProcessorContext<>();
    inFlight =
        store(first, ShopLensTopology.IN_FLIGHT_STORE, JsonStoreSerde.of(InferenceJob.class));
    uploads = store(first, ShopLensTopology.UPLOADS_STORE, JsonStoreSerde.of(StoredUpload.class));
    stores =
        List.of(
            inFlight,
            uploads,
            store(
                first,
                ShopLensTopology.CONVERSATIONS_STORE,
                JsonStoreSerde.of(StoredState.Conversation.class)),
            store(first, ShopLensTopology.EXPIRY_STORE, ExpiryKey.serde(), Serdes.String()));
  }

  @AfterEach
  void tearDown() {
    stores.forEach(StateStore::close);
    MockSchemaRegistry.dropScope(scope);
  }

  @Test
  void shouldResubmitJobsLeftInTheInFlightStoreAndForwardEachOnce() {
    // Given an upload kept and a question accepted while inference was still running
    byte[] uploadBytes =
        topics
            .imageUploads()
            .valueSerde()
            .serializer()
            .serialize(Topics.IMAGE_UPLOADS, TestEvents.upload("u1", TestEvents.goodImage()));
    uploads.put(
        "u1",
        new StoredUpload(
            new Origin(Topics.IMAGE_UPLOADS, 0, 0, 1L, bytes("u1"), uploadBytes, List.of()), 1L));
    byte[] questionBytes =
        topics
            .questions()
            .valueSerde()
            .serializer()
            .serialize(Topics.QUESTIONS, TestEvents.question("q1", "u1", "what?"));
    InferenceJob job =
        InferenceJob.of(
            Kind.ANSWER,
            "u1",
            null,
            new Origin(Topics.QUESTIONS, 0, 5, 2L, bytes("u1"), questionBytes, List.of()));

    FakeEngine stuck = new FakeEngine().hold();
    MockProcessorContext<String, InferenceOutput> first = context();
    InferenceProcessor before = processor(stuck);
    before.init(first);
    before.process(new Record<>("u1", job, 2L));
    assertThat(stuck.heldCount()).isEqualTo(1);
    punctuate(first, 10);
    assertThat(first.forwarded()).as("nothing is forwarded before completion").isEmpty();
    before.close(); // the instance goes away; its result is never forwarded
    stuck.releaseAll();
    assertThat(first.forwarded()).isEmpty();
    assertThat(inFlight.get(job.id())).as("still recorded").isNotNull();

    // When a new processor starts on the store
    FakeEngine fresh = new FakeEngine();
    MockProcessorContext<String, InferenceOutput> second = context();
    InferenceProcessor after = processor(fresh);
    after.init(second);

    // Then it submits the job again, forwards the answer once and forgets the job
    assertThat(fresh.submitted).hasSize(1);
    punctuate(second, 20);
    punctuate(second, 30);
    assertThat(second.forwarded()).hasSize(1);
    QuestionAnswered answer =
        ((InferenceOutput.Answered) second.forwarded().get(0).record().value()).event();
    assertThat(answer.getAnswer()).isEqualTo("answer[what?|0]");
    assertThat(answer.getLineage().getSourceOffset()).isEqualTo(5);
    assertThat(inFlight.get(job.id())).isNull();
    after.close();

    // And a third start finds nothing left to do
    FakeEngine third = new FakeEngine();
    InferenceProcessor later = processor(third);
    later.init(context());
    assertThat(third.submitted).isEmpty();
  }

  private InferenceProcessor processor(FakeEngine engine) {
    return new InferenceProcessor(
        config,
        topics,
        new InferenceServices(engine, null, ImageResolver.inlineOnly(1_000_000)),
        new InFlightLimiter(config.maxInFlightRequests()),
        null,
        null);
  }

  private MockProcessorContext<String, InferenceOutput> context() {
    MockProcessorContext<String, InferenceOutput> ctx = new MockProcessorContext<>();
    stores.forEach(ctx::addStateStore);
    return ctx;
  }

  private static void punctuate(MockProcessorContext<String, InferenceOutput> ctx, long now) {
    ctx.setCurrentSystemTimeMs(now);
    ctx.scheduledPunctuators().forEach(p -> p.getPunctuator().punctuate(now));
  }

  private static <V> KeyValueStore<String, V> store(
      MockProcessorContext<String, InferenceOutput> ctx, String name, Serde<V> values) {
    return store(ctx, name, Serdes.String(), values);
  }

  private static <K, V> KeyValueStore<K, V> store(
      MockProcessorContext<String, InferenceOutput> ctx,
      String name,
      Serde<K> keys,
      Serde<V> values) {
    KeyValueStore<K, V> store =
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), keys, values)
            .withLoggingDisabled()
            .build();
    store.init(ctx.getStateStoreContext(), store);
    return store;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
