package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.shoplens.processor.inference.generation.RunningBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BatchingInferenceEngineTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static Blip2Model model;
  private GatedModel gated;
  private BatchingInferenceEngine engine;

  @BeforeAll
  static void open() {
    model =
        Blip2Model.open(
            TinyBundle.dir(), EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build());
  }

  @AfterAll
  static void closeModel() {
    model.close();
  }

  @AfterEach
  void closeEngine() {
    if (gated != null) {
      gated.release.countDown();
    }
    if (engine != null) {
      engine.close();
    }
  }

  private BatchingInferenceEngine start(EngineConfig config) {
    gated = new GatedModel(model);
    engine = new BatchingInferenceEngine(gated, config);
    return engine;
  }

  private static EngineConfig config() {
    // Static unless a test says otherwise: most tests here are about how a static batch forms.
    return EngineConfig.builder()
        .maxBatchSize(8)
        .maxBatchWait(Duration.ofMillis(50))
        .scheduler(EngineConfig.Scheduler.STATIC)
        .build();
  }

  @Test
  void shouldBatchQueuedRequestsAndGiveEachHuggingFacesTokens() throws Exception {
    // Given the worker held inside a first request
    start(config());
    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    // When four requests queue meanwhile
    List<String> cases = List.of("caption_photo", "caption_alpha", "vqa_photo", "caption_wide");
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    for (String name : cases) {
      futures.add(engine.submit(fromReference(name)));
    }
    await().atMost(WAIT).until(() -> engine.stats().queueDepth() == 4);
    gated.release.countDown();

    // Then they run as one batch of four, each with its own reference tokens
    gate.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    for (int i = 0; i < cases.size(); i++) {
      GenerationResult r = futures.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(r.tokenIds()).as(cases.get(i)).containsExactly(expectedTokens(cases.get(i)));
      assertThat(r.modelVersion()).isEqualTo(model.modelVersion());
      assertThat(r.timings().prefill()).isPositive();
    }
    EngineStats stats = engine.stats();
    assertThat(stats.batches()).isEqualTo(2);
    assertThat(stats.maxBatchSize()).isEqualTo(4);
    assertThat(stats.completed()).isEqualTo(5);
    assertThat(stats.tokensGenerated()).isPositive();
  }

  @Test
  void shouldSkipTheVisionGraphForASecondQuestionAboutTheSameImage() throws Exception {
    start(config());
    byte[] photo = TinyBundle.imageBytes("photo.jpg");
    DecodingOptions greedy = DecodingOptions.greedy().withMaxNewTokens(12);

    GenerationResult first =
        engine
            .submit(GenerationRequest.question("q1", photo, "what is it?", List.of(), greedy, 0))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    GenerationResult second =
        engine
            .submit(
                GenerationRequest.question(
                    "q2", photo, "what color is the dress?", List.of(), greedy, 0))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);

    EngineStats stats = engine.stats();
    assertThat(stats.visionRuns()).isEqualTo(1);
    assertThat(stats.visionCacheMisses()).isEqualTo(1);
    assertThat(stats.visionCacheHits()).isEqualTo(1);
    assertThat(stats.visionCacheEntries()).isEqualTo(1);
    assertThat(gated.visionCalls).isEqualTo(1);
    assertThat(first.visionCacheHit()).isFalse();
    assertThat(second.visionCacheHit()).isTrue();
    assertThat(second.timings().vision()).isZero();
    // The cached embeddings give the same answer as a fresh vision pass (HF's vqa_photo case).
    assertThat(second.tokenIds()).containsExactly(expectedTokens("vqa_photo"));
  }

  @Test
  void shouldDecodeAnImageOnlyOnAVisionCacheMiss() throws Exception {
    // Given a question about the photo, answered (its image decoded, its embeddings cached)
    start(config());
    byte[] photo = TinyBundle.imageBytes("photo.jpg");
    DecodingOptions greedy = DecodingOptions.greedy().withMaxNewTokens(12);
    engine
        .submit(GenerationRequest.question("q1", photo, "what is it?", List.of(), greedy, 0))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);

    // When a second question about the same photo is answered
    GenerationResult second =
        engine
            .submit(
                GenerationRequest.question(
                    "q2", photo, "what color is the dress?", List.of(), greedy, 0))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);

    // Then only the first request decoded the image, and the answer is the reference one
    assertThat(gated.prepared).hasSize(2);
    assertThat(gated.decodedImages).containsExactly(gated.prepared.get(0).request().requestId());
    assertThat(second.visionCacheHit()).isTrue();
    assertThat(second.tokenIds()).containsExactly(expectedTokens("vqa_photo"));
  }

  @Test
  void shouldDigestAnImageWithoutDecodingItUntilItsPixelsAreNeeded() {
    // Given a corrupt image
    byte[] corrupt = java.util.Arrays.copyOf(TinyBundle.imageBytes("photo.jpg"), 40);

    // When it is prepared, then only the explicit decode step fails
    Blip2Model.Prepared p =
        model.prepare(GenerationRequest.caption("bad", corrupt, DecodingOptions.greedy(), 0));
    assertThat(p.imageSha256()).hasSize(64);
    assertThatThrownBy(() -> model.decodeImage(p))
        .isInstanceOf(io.shoplens.processor.inference.image.ImageDecodeException.class);
  }

  @Test
  void shouldRejectAtOnceWhenTheQueueIsFullUnderRejectPolicy() throws Exception {
    start(
        config().toBuilder()
            .queueCapacity(1)
            .backpressure(EngineConfig.Backpressure.REJECT)
            .offerTimeout(Duration.ZERO)
            .build());
    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    CompletableFuture<GenerationResult> queued = engine.submit(fromReference("caption_photo"));

    CompletableFuture<GenerationResult> refused = engine.submit(fromReference("caption_alpha"));

    assertThat(refused).isCompletedExceptionally();
    assertThatThrownBy(refused::get)
        .cause()
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining("queue full (1 requests)");
    assertThat(engine.stats().rejected()).isEqualTo(1);
    assertThat(engine.stats().queueDepth()).isEqualTo(1);
    gated.release.countDown();
    gate.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(queued.get(WAIT.toSeconds(), TimeUnit.SECONDS).tokenIds())
        .containsExactly(expectedTokens("caption_photo"));
  }

  @Test
  void shouldBlockForTheOfferTimeoutThenRejectUnderBlockPolicy() throws Exception {
    start(
        config().toBuilder()
            .queueCapacity(1)
            .backpressure(EngineConfig.Backpressure.BLOCK)
            .offerTimeout(Duration.ofMillis(100))
            .build());
    engine.submit(gateRequest());
    gated.awaitGateEntered();
    engine.submit(fromReference("caption_photo"));

    long start = System.nanoTime();
    CompletableFuture<GenerationResult> refused = engine.submit(fromReference("caption_alpha"));

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .isGreaterThanOrEqualTo(Duration.ofMillis(100));
    assertThatThrownBy(refused::get)
        .cause()
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining("waited PT0.1S");
  }

  @Test
  void shouldFailOnlyTheBatchWhoseGraphFailed() throws Exception {
    // Given a decoder failure armed for the first batch, and two requests queued behind it
    start(config());
    gated.failNextDecode = new InferenceException("model x: decoder.onnx failed on inputs {...}");
    CompletableFuture<GenerationResult> doomed = engine.submit(gateRequest());
    gated.awaitGateEntered();
    CompletableFuture<GenerationResult> a = engine.submit(fromReference("caption_photo"));
    CompletableFuture<GenerationResult> b = engine.submit(fromReference("vqa_photo"));
    await().atMost(WAIT).until(() -> engine.stats().queueDepth() == 2);

    gated.release.countDown();

    assertThatThrownBy(() -> doomed.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(InferenceException.class)
        .hasMessageContaining("decoder.onnx");
    assertThat(a.get(WAIT.toSeconds(), TimeUnit.SECONDS).tokenIds())
        .containsExactly(expectedTokens("caption_photo"));
    assertThat(b.get(WAIT.toSeconds(), TimeUnit.SECONDS).tokenIds())
        .containsExactly(expectedTokens("vqa_photo"));
    assertThat(engine.stats().failed()).isEqualTo(1);
    assertThat(engine.stats().completed()).isEqualTo(2);
  }

  @Test
  void shouldFailACorruptImageAloneAndAnswerTheRestOfItsBatch() throws Exception {
    start(config());
    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    byte[] corrupt = java.util.Arrays.copyOf(TinyBundle.imageBytes("photo.jpg"), 40);
    CompletableFuture<GenerationResult> bad =
        engine.submit(GenerationRequest.caption("bad", corrupt, DecodingOptions.greedy(), 0));
    CompletableFuture<GenerationResult> good = engine.submit(fromReference("caption_alpha"));
    await().atMost(WAIT).until(() -> engine.stats().queueDepth() == 2);

    gated.release.countDown();

    gate.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThatThrownBy(() -> bad.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    assertThat(good.get(WAIT.toSeconds(), TimeUnit.SECONDS).tokenIds())
        .containsExactly(expectedTokens("caption_alpha"));
    assertThat(engine.stats().maxBatchSize()).isEqualTo(2);
  }

  @Test
  void shouldSampleTheSameTokensForTheSameSeedWhateverElseIsInTheBatch() throws Exception {
    start(config());
    DecodingOptions sampling = DecodingOptions.sampling().withMaxNewTokens(12);
    byte[] photo = TinyBundle.imageBytes("photo.jpg");
    GenerationRequest request =
        GenerationRequest.question("s", photo, "what is it?", List.of(), sampling, 7);
    GenerationResult alone = engine.submit(request).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    CompletableFuture<GenerationResult> other1 = engine.submit(fromReference("vqa_photo"));
    CompletableFuture<GenerationResult> again = engine.submit(request);
    CompletableFuture<GenerationResult> other2 =
        engine.submit(
            GenerationRequest.caption("other", TinyBundle.imageBytes("wide.png"), sampling, 99));
    await().atMost(WAIT).until(() -> engine.stats().queueDepth() == 3);
    gated.release.countDown();
    gate.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(again.get(WAIT.toSeconds(), TimeUnit.SECONDS).tokenIds())
        .containsExactly(alone.tokenIds());
    other1.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    other2.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(engine.stats().maxBatchSize()).isEqualTo(3);
    // And another seed explores differently (a 12-token sample over 600 tokens).
    GenerationResult otherSeed =
        engine
            .submit(GenerationRequest.question("s2", photo, "what is it?", List.of(), sampling, 8))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(otherSeed.tokenIds()).isNotEqualTo(alone.tokenIds());
  }

  @Test
  void shouldFailQueuedRequestsOnCloseAndRejectLaterOnes() throws Exception {
    start(config().toBuilder().closeTimeout(Duration.ofSeconds(20)).build());
    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    CompletableFuture<GenerationResult> queued = engine.submit(fromReference("caption_photo"));

    CompletableFuture<Void> closing = CompletableFuture.runAsync(engine::close);
    await().atMost(WAIT).until(() -> gated.closeRequested());
    gated.release.countDown();
    closing.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(gate.get(WAIT.toSeconds(), TimeUnit.SECONDS).tokenIds()).isNotEmpty();
    assertThatThrownBy(queued::get).cause().isInstanceOf(RequestRejectedException.class);
    assertThatThrownBy(() -> engine.submit(fromReference("caption_alpha")).get())
        .cause()
        .isInstanceOf(RequestRejectedException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void givenTheContinuousSchedulerWhenMoreRowsArriveThanFitThenEachRequestGetsHuggingFacesTokens()
      throws Exception {
    // Given a continuous engine of 2 rows, held while requests queue
    start(
        config().toBuilder().maxBatchSize(2).scheduler(EngineConfig.Scheduler.CONTINUOUS).build());
    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    List<String> cases =
        List.of(
            "caption_photo",
            "vqa_photo",
            "caption_alpha",
            "beam_vqa_photo",
            "caption_gray",
            "multiturn_alpha",
            "caption_wide",
            "caption_tiny");
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    for (String name : cases) {
      futures.add(engine.submit(fromReference(name)));
    }

    // When the worker goes on (requests join as others leave, a 3-beam request runs alone)
    gated.release.countDown();

    // Then every request has its reference tokens, and rows never exceeded the batch size
    gate.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    for (int i = 0; i < cases.size(); i++) {
      GenerationResult r = futures.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(r.tokenIds()).as(cases.get(i)).containsExactly(expectedTokens(cases.get(i)));
    }
    assertThat(gated.maxBusyRows).isBetween(2, 3);
    assertThat(engine.stats().completed()).isEqualTo(cases.size() + 1);
    assertThat(engine.stats().failed()).isZero();
    await().atMost(WAIT).until(() -> engine.stats().busyRows() == 0);
    assertThat(engine.stats().kvBytesInUse()).isZero();
  }

  @Test
  void givenAFullKvBudgetWhenRequestsArriveThenTheyWaitAndAllComplete() throws Exception {
    // Given a continuous engine whose KV budget holds one caption (11 prompt + 12 new tokens)
    start(
        config().toBuilder()
            .scheduler(EngineConfig.Scheduler.CONTINUOUS)
            .kvBudgetTokens(30)
            .build());
    CompletableFuture<GenerationResult> gate = engine.submit(gateRequest());
    gated.awaitGateEntered();
    List<String> cases = List.of("caption_photo", "caption_alpha", "caption_gray", "caption_wide");
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    for (String name : cases) {
      futures.add(engine.submit(fromReference(name)));
    }

    // When the worker goes on
    gated.release.countDown();

    // Then each waited for the one before it, none failed, and the KV window stayed in budget
    gate.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    for (int i = 0; i < cases.size(); i++) {
      GenerationResult r = futures.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(r.tokenIds()).as(cases.get(i)).containsExactly(expectedTokens(cases.get(i)));
    }
    assertThat(gated.maxBusyRows).isEqualTo(1);
    long bytesPerToken = engine.stats().kvBudgetBytes() / 30;
    assertThat(gated.maxKvBytes).isPositive().isLessThanOrEqualTo(30 * bytesPerToken);
    assertThat(engine.stats().failed()).isZero();
    assertThat(engine.stats().rejected()).isZero();
  }

  @Test
  void givenAKvBudgetSmallerThanOneRequestWhenItIsSubmittedThenItFailsSayingSo() {
    // Given a budget of 15 token rows, less than a caption's 11 + 12
    start(config().toBuilder().kvBudgetTokens(15).build());

    // When a caption is submitted, Then it fails at once instead of waiting for ever
    CompletableFuture<GenerationResult> f = engine.submit(fromReference("caption_photo"));
    assertThatThrownBy(() -> f.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("budget of 15 token rows");
  }

  @Test
  void givenAnImageAlreadyCaptionedWhenAQuestionAboutItArrivesThenItsImagePrefixKvIsReused()
      throws Exception {
    // Given the photo captioned once (its image prefix computed and kept)
    start(config().toBuilder().scheduler(EngineConfig.Scheduler.CONTINUOUS).build());
    engine.submit(fromReference("caption_photo")).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    EngineStats before = engine.stats();

    // When a question about the photo is answered
    GenerationResult answer =
        engine.submit(fromReference("vqa_photo")).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    // Then its prefix came from the cache and its answer is still Hugging Face's
    EngineStats after = engine.stats();
    assertThat(before.prefixCacheMisses()).isEqualTo(1);
    assertThat(after.prefixCacheHits()).isEqualTo(before.prefixCacheHits() + 1);
    assertThat(after.prefixCacheMisses()).isEqualTo(1);
    assertThat(after.prefixCacheBytes()).isPositive();
    assertThat(answer.tokenIds()).containsExactly(expectedTokens("vqa_photo"));
  }

  @Test
  void givenPrefixReuseDisabledWhenRequestsRunThenNoPrefixIsKept() throws Exception {
    start(config().toBuilder().prefixCacheBytes(0).build());

    GenerationResult r =
        engine.submit(fromReference("vqa_photo")).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(r.tokenIds()).containsExactly(expectedTokens("vqa_photo"));
    assertThat(engine.stats().prefixCacheMisses()).isZero();
    assertThat(engine.stats().prefixCacheBytes()).isZero();
  }

  private GenerationRequest gateRequest() {
    return GenerationRequest.ofPixels(
        GatedModel.GATE,
        TinyBundle.pixelValues("gray.png"),
        null,
        null,
        List.of(),
        DecodingOptions.greedy().withMaxNewTokens(4),
        0);
  }

  private static GenerationRequest fromReference(String name) {
    var c = TinyBundle.referenceCase(name);
    var prompt = c.get("prompts").get(0);
    return GenerationRequest.ofPixels(
        name,
        TinyBundle.pixelValues(c.get("images").get(0).asText()),
        prompt.isNull() ? null : prompt.asText(),
        null,
        List.of(),
        Blip2ParityTest.options(c.get("generation")),
        0);
  }

  private static long[] expectedTokens(String name) {
    long[] tokens = TinyBundle.longs(TinyBundle.referenceCase(name).get("new_tokens").get(0));
    List<Integer> stops = model.manifest().tokens().stopTokenIds();
    for (int i = 0; i < tokens.length; i++) {
      if (stops.contains((int) tokens[i])) {
        return java.util.Arrays.copyOf(tokens, i + 1);
      }
    }
    return tokens;
  }

  /** The real model, with a gate that holds the worker and an armed decoder failure. */
  private static final class GatedModel extends ForwardingEngineModel {
    static final String GATE = "gate";
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile RuntimeException failNextDecode;
    volatile int visionCalls;
    volatile int maxBusyRows;
    volatile long maxKvBytes;
    final List<Blip2Model.Prepared> prepared = new java.util.concurrent.CopyOnWriteArrayList<>();
    final List<String> decodedImages = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile boolean interruptSeen;

    GatedModel(Blip2Model delegate) {
      super(delegate);
    }

    void awaitGateEntered() throws InterruptedException {
      assertThat(entered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    boolean closeRequested() {
      return interruptSeen;
    }

    @Override
    public Blip2Model.Prepared prepare(GenerationRequest request) {
      if (request.requestId().equals(GATE)) {
        entered.countDown();
        boolean interrupted = false;
        while (true) {
          try {
            if (release.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
              break;
            }
          } catch (InterruptedException e) {
            interrupted = true; // close() interrupts the worker; hold on until released
            interruptSeen = true;
          }
        }
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
      Blip2Model.Prepared p = delegate.prepare(request);
      prepared.add(p);
      return p;
    }

    @Override
    public float[] decodeImage(Blip2Model.Prepared p) {
      decodedImages.add(p.request().requestId());
      return delegate.decodeImage(p);
    }

    @Override
    public List<float[]> encodeImages(List<float[]> pixels) {
      visionCalls++;
      return delegate.encodeImages(pixels);
    }

    @Override
    public <T> List<RunningBatch.Finished<T>> join(
        io.shoplens.processor.inference.generation.DecodingBatch<T> batch,
        List<RunningBatch.Input<T>> joiners) {
      RuntimeException failure = failNextDecode;
      if (failure != null) {
        failNextDecode = null;
        throw failure;
      }
      return delegate.join(batch, joiners);
    }

    @Override
    public <T> List<RunningBatch.Finished<T>> step(
        io.shoplens.processor.inference.generation.DecodingBatch<T> batch) {
      // Only the worker calls this; the fields are read after the futures completed.
      maxBusyRows = Math.max(maxBusyRows, batch.busyRows());
      List<RunningBatch.Finished<T>> done = delegate.step(batch);
      maxKvBytes = Math.max(maxKvBytes, batch.kvBytesInUse());
      return done;
    }

    @Override
    public void close() {
      // The shared model outlives each engine.
    }
  }
}
