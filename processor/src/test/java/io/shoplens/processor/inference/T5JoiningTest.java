package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.shoplens.processor.inference.generation.DecodingBatch;
import io.shoplens.processor.inference.generation.EncoderDecoderBatch;
import io.shoplens.processor.inference.generation.PrefixStore;
import io.shoplens.processor.inference.generation.RunningBatch;
import io.shoplens.processor.inference.t5.T5Bundle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * BLIP-2 T5 under the token-level scheduler: requests join a running {@link EncoderDecoderBatch}
 * between decoder steps and leave it when done, each row with its own cross-attention KV. What a
 * request generates must not depend on what else is in the batch or on when it joined: joined
 * mid-decode it gives Hugging Face's tokens (the tiny-t5 reference) and exactly the tokens, beams
 * and scores it gives alone.
 */
class T5JoiningTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static T5Model model;

  @BeforeAll
  static void open() {
    model =
        T5Model.open(
            T5Bundle.load(T5EngineTest.BUNDLE),
            EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build());
  }

  @AfterAll
  static void close() {
    model.close();
  }

  static Stream<Arguments> deterministicCases() {
    return T5EngineTest.deterministicCases();
  }

  @ParameterizedTest(name = "{0} joining a running batch, one request every 2 steps")
  @MethodSource("deterministicCases")
  void givenARunningBatchWhenAReferenceCaseJoinsMidDecodeThenItGetsHuggingFacesTokens(
      String name, JsonNode c) {
    // Given a batch already decoding a 12-token caption (11 encoder positions), the case's rows
    // joining at steps 2, 4, ... (longer encoder inputs than the running row, decoders at step 0
    // beside one at step 2 or more), and another caption joining after them
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(longCaption("before", "wide.png"));
    for (int i = 0; i < c.get("images").size(); i++) {
      requests.add(fromCase(name + "-" + i, c, i, 0));
    }
    requests.add(longCaption("after", "gray.png"));
    int[] joinAt = new int[requests.size()];
    for (int i = 0; i < joinAt.length; i++) {
      joinAt[i] = 2 * i;
    }

    // When they are decoded by iteration-level scheduling
    List<GenerationResult> results = decode(requests, joinAt);

    // Then the case's rows get Hugging Face's sequences (and beam scores), the captions their solo
    // tokens
    for (int i = 0; i < c.get("images").size(); i++) {
      assertMatchesReference(c, i, results.get(i + 1));
    }
    assertSameAsAlone(requests.get(0), results.get(0));
    assertSameAsAlone(requests.get(requests.size() - 1), results.get(results.size() - 1));
  }

  @ParameterizedTest(name = "joining at step {0}")
  @ValueSource(ints = {0, 1, 2, 5, 9, 11})
  void givenARunningBatchWhenGreedyBeamAndSampledRequestsJoinAtStepKThenEachEqualsItsSoloRun(
      int k) {
    // Given a running caption (forced to 12 tokens) and a 3-beam caption, and a greedy question, a
    // 3-beam question and two seeded samples, all with longer encoder inputs, joining at step k
    List<GenerationRequest> requests =
        List.of(
            longCaption("long", "wide.png"),
            fromCase("beam-gray", T5EngineTest.referenceCase("beam_caption_gray"), 0, 0),
            fromCase("vqa", T5EngineTest.referenceCase("vqa_photo"), 0, 0),
            fromCase("beam-vqa", T5EngineTest.referenceCase("beam_vqa_photo"), 0, 0),
            fromCase("sample-t", T5EngineTest.referenceCase("sample_temperature"), 0, 42),
            fromCase("sample-p", T5EngineTest.referenceCase("sample_top_p_only"), 0, 7));
    int[] joinAt = {0, 0, k, k, k, k};

    // When decoded continuously
    List<GenerationResult> results = decode(requests, joinAt);

    // Then every request's sequences, scores included, equal its run alone
    for (int i = 0; i < requests.size(); i++) {
      assertSameAsAlone(requests.get(i), results.get(i));
    }
    // and the deterministic ones are Hugging Face's
    assertMatchesReference(T5EngineTest.referenceCase("beam_caption_gray"), 0, results.get(1));
    assertMatchesReference(T5EngineTest.referenceCase("vqa_photo"), 0, results.get(2));
    assertMatchesReference(T5EngineTest.referenceCase("beam_vqa_photo"), 0, results.get(3));
  }

  @Test
  void givenSeededSamplesJoiningOnePerStepThenEachSeedAloneDecidesItsTokens() {
    // Given the same sampled question under four seeds, joining a running batch one per step, and
    // the first seed once more, joining last
    JsonNode c = T5EngineTest.referenceCase("sample_top_k_top_p");
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(longCaption("long", "photo.jpg"));
    for (int seed = 1; seed <= 4; seed++) {
      requests.add(fromCase("seed-" + seed, c, 0, seed));
    }
    requests.add(fromCase("seed-1-again", c, 0, 1));
    int[] joinAt = {0, 1, 2, 3, 4, 7};

    // When decoded continuously
    List<GenerationResult> results = decode(requests, joinAt);

    // Then each equals its run alone, and the same seed gave the same tokens at another step
    for (int i = 0; i < requests.size(); i++) {
      assertSameAsAlone(requests.get(i), results.get(i));
    }
    assertThat(results.get(5).tokenIds()).containsExactly(results.get(1).tokenIds());
  }

  @Test
  void givenAnOldRowLeavingWhenAYoungerLongerRowContinuesThenOnlyItsOwnColumnsAreKept() {
    // Given a caption (11 encoder positions, 12 tokens) and, from step 3, a multi-turn question
    // (61 encoder positions) that runs on after the caption has left
    JsonNode multiturn = T5EngineTest.referenceCase("multiturn_alpha");
    List<GenerationRequest> requests =
        List.of(longCaption("old", "wide.png"), fromCase("young", multiturn, 0, 0));
    List<Blip2Model.Encoded> encoded = encode(requests);
    long perToken = EncoderDecoderBatch.bytesPerToken(model.manifest().text());
    int youngEncoder = encoded.get(1).prepared().promptIds().length;
    List<RunningBatch.Finished<Integer>> done = new ArrayList<>();
    List<Long> youngAloneBytes = new ArrayList<>();
    try (DecodingBatch<Integer> batch = newBatch(Long.MAX_VALUE)) {
      batch.join(List.of(input(0, encoded.get(0))));
      for (int step = 0; step < 2; step++) {
        done.addAll(batch.step());
      }
      // When the younger one joins (decoder at step 0 beside one at step 3) and both decode
      done.addAll(batch.join(List.of(input(1, encoded.get(1)))));
      while (!batch.isEmpty()) {
        done.addAll(batch.step());
        if (batch.tags().equals(List.of(1))) {
          youngAloneBytes.add(batch.kvBytesInUse());
        }
      }
    }

    // Then the old one left first, after which the batch held exactly the young row's own columns
    // (its encoder input and its decoder tokens so far): the old row's KV and the padding that
    // only it needed were dropped
    assertThat(done.get(0).tag()).isZero();
    assertThat(youngAloneBytes).isNotEmpty();
    int generatedWhenOldLeft = 12 - 3 + 1;
    for (int i = 0; i < youngAloneBytes.size(); i++) {
      int generated = generatedWhenOldLeft + i;
      assertThat(youngAloneBytes.get(i))
          .as("after step %d alone", i)
          .isEqualTo((youngEncoder + generated) * perToken);
    }
    // and its tokens are Hugging Face's
    GenerationResult young = model.result(encoded.get(1), done.get(1));
    assertMatchesReference(multiturn, 0, young);
  }

  @Test
  void givenAKvBudgetWhenAJoinerWouldOutgrowItThenItWaitsAndTheWindowNeverExceedsIt() {
    // Given a budget of 46 token rows: one caption needs 11 encoder + 12 decoder columns; a second
    // joining at decoder step p needs 2 x (11 + p + 11), within 46 only at p = 1
    List<GenerationRequest> requests =
        List.of(longCaption("first", "wide.png"), longCaption("second", "gray.png"));
    List<Blip2Model.Encoded> encoded = encode(requests);
    long budget = 46;
    long perToken = EncoderDecoderBatch.bytesPerToken(model.manifest().text());
    try (DecodingBatch<Integer> batch = newBatch(budget)) {
      RunningBatch.Input<Integer> second = input(1, encoded.get(1));
      batch.join(List.of(input(0, encoded.get(0))));

      // Then right after the first one's first token the second fits, one step later it would not
      assertThat(batch.fits(List.of(second))).isTrue();
      batch.step();
      assertThat(batch.fits(List.of(second))).isFalse();

      // and once it could join, the window stays within the budget to the end
      try (DecodingBatch<Integer> other = newBatch(budget)) {
        other.join(List.of(input(0, encoded.get(0))));
        other.join(List.of(second));
        assertThat(other.busyRows()).isEqualTo(2);
        long most = other.kvBytesInUse();
        while (!other.isEmpty()) {
          other.step();
          most = Math.max(most, other.kvBytesInUse());
        }
        assertThat(most).isPositive().isLessThanOrEqualTo(budget * perToken);
      }
    }
  }

  @Test
  void givenTheContinuousSchedulerWhenT5RequestsArriveWhileABatchRunsThenTheyJoinIt()
      throws Exception {
    // Given a continuous engine decoding a long caption, held after its first step
    HeldModel held = new HeldModel(model);
    EngineConfig config =
        T5EngineTest.config().scheduler(EngineConfig.Scheduler.CONTINUOUS).build();
    try (BatchingInferenceEngine engine = new BatchingInferenceEngine(held, config)) {
      CompletableFuture<GenerationResult> first = engine.submit(longCaption("first", "wide.png"));
      assertThat(held.stepEntered.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

      // When a greedy question and a beam search arrive meanwhile
      JsonNode vqa = T5EngineTest.referenceCase("vqa_photo");
      JsonNode beam = T5EngineTest.referenceCase("beam_vqa_photo");
      CompletableFuture<GenerationResult> question = engine.submit(fromCase("q", vqa, 0, 0));
      CompletableFuture<GenerationResult> beams = engine.submit(fromCase("b", beam, 0, 0));
      held.release.countDown();

      // Then they joined the running batch, and each got Hugging Face's (or its solo) tokens
      assertMatchesReference(vqa, 0, question.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertMatchesReference(beam, 0, beams.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertSameAsAlone(
          longCaption("first", "wide.png"), first.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      assertThat(held.joinsIntoRunningBatch.get()).isPositive();
      assertThat(engine.stats().failed()).isZero();
    }
  }

  // ---- helpers ----

  /** A greedy caption that always runs 12 steps: a long-lived neighbour in a running batch. */
  private static GenerationRequest longCaption(String id, String image) {
    return GenerationRequest.ofPixels(
        id,
        T5EngineTest.pixels(image),
        "",
        null,
        List.of(),
        DecodingOptions.greedy().withMaxNewTokens(12).withMinNewTokens(12),
        0);
  }

  /** Row {@code i} of a reference case as a request, with its raw prompt and {@code seed}. */
  private static GenerationRequest fromCase(String id, JsonNode c, int i, long seed) {
    return GenerationRequest.ofPixels(
        id,
        T5EngineTest.pixels(c.get("images").get(i).asText()),
        c.get("prompts").get(i).asText(),
        null,
        List.of(),
        T5EngineTest.options(c.get("generation")),
        seed);
  }

  private static List<Blip2Model.Encoded> encode(List<GenerationRequest> requests) {
    List<Blip2Model.Encoded> encoded = new ArrayList<>();
    for (GenerationRequest r : requests) {
      Blip2Model.Prepared p = model.prepare(r);
      float[] embeds = model.encodeImages(List.of(model.decodeImage(p))).get(0);
      encoded.add(new Blip2Model.Encoded(p, embeds, 0, 0, false));
    }
    return encoded;
  }

  private static RunningBatch.Input<Integer> input(int tag, Blip2Model.Encoded e) {
    GenerationRequest r = e.prepared().request();
    return new RunningBatch.Input<>(
        tag,
        e.prepared().promptIds(),
        e.queryEmbeds(),
        r.options(),
        r.seed(),
        e.prepared().imageSha256());
  }

  private static DecodingBatch<Integer> newBatch(long budgetTokens) {
    return model.newBatch(
        EngineConfig.builder().maxBatchSize(64).kvBudgetTokens(budgetTokens).build(),
        (PrefixStore) null);
  }

  /**
   * Decodes requests on one running batch as the engine's worker does (join, then step), request i
   * joining before step {@code joinAt[i]} (non-decreasing); results in request order.
   */
  private static List<GenerationResult> decode(List<GenerationRequest> requests, int[] joinAt) {
    List<Blip2Model.Encoded> encoded = encode(requests);
    GenerationResult[] results = new GenerationResult[requests.size()];
    try (DecodingBatch<Integer> batch = newBatch(Long.MAX_VALUE)) {
      int next = 0;
      int step = 0;
      while (next < requests.size() || !batch.isEmpty()) {
        List<RunningBatch.Input<Integer>> joiners = new ArrayList<>();
        while (next < requests.size() && joinAt[next] <= step) {
          joiners.add(input(next, encoded.get(next)));
          next++;
        }
        assertThat(batch.fits(joiners)).isTrue();
        List<RunningBatch.Finished<Integer>> done = new ArrayList<>(batch.join(joiners));
        done.addAll(batch.step());
        for (RunningBatch.Finished<Integer> f : done) {
          results[f.tag()] = model.result(encoded.get(f.tag()), f);
        }
        step++;
      }
    }
    return List.of(results);
  }

  /** The request decoded alone, then compared sequence by sequence, scores included. */
  private static void assertSameAsAlone(GenerationRequest request, GenerationResult joined) {
    GenerationResult alone = decode(List.of(request), new int[] {0}).get(0);
    String id = request.requestId();
    assertThat(joined.tokenIds()).as(id).containsExactly(alone.tokenIds());
    assertThat(joined.finishReason()).as(id).isEqualTo(alone.finishReason());
    if (Float.isNaN(alone.score())) {
      assertThat(joined.score()).as(id).isNaN();
    } else {
      assertThat(joined.score()).as(id).isCloseTo(alone.score(), within(1e-5f));
    }
    assertThat(joined.alternatives()).as(id).hasSameSizeAs(alone.alternatives());
    for (int a = 0; a < alone.alternatives().size(); a++) {
      assertThat(joined.alternatives().get(a).tokenIds())
          .as(id + " alternative " + a)
          .containsExactly(alone.alternatives().get(a).tokenIds());
      assertThat(joined.alternatives().get(a).score())
          .as(id + " alternative " + a)
          .isCloseTo(alone.alternatives().get(a).score(), within(1e-5f));
    }
  }

  /**
   * Row {@code i}'s sequences against Hugging Face's: {@code generate()} returns {@code
   * [decoder_start, tokens..., padding]}; the engine returns the tokens up to and with the stop.
   */
  private static void assertMatchesReference(JsonNode c, int i, GenerationResult r) {
    String name = c.get("name").asText();
    JsonNode g = c.get("generation");
    int returned = g.path("num_return_sequences").asInt(1);
    List<GenerationResult.Sequence> got = new ArrayList<>();
    got.add(new GenerationResult.Sequence(r.text(), r.tokenIds(), r.finishReason(), r.score()));
    got.addAll(r.alternatives());
    assertThat(got).as(name + " row " + i).hasSize(returned);
    List<Integer> stops = model.manifest().tokens().stopTokenIds();
    for (int k = 0; k < returned; k++) {
      JsonNode sequence = c.get("sequences").get(i * returned + k);
      long[] all = new long[sequence.size()];
      for (int j = 0; j < all.length; j++) {
        all[j] = sequence.get(j).asLong();
      }
      int end = all.length;
      for (int j = 1; j < all.length; j++) {
        if (stops.contains((int) all[j])) {
          end = j + 1;
          break;
        }
      }
      assertThat(got.get(k).tokenIds())
          .as(name + " row " + i + " sequence " + k)
          .containsExactly(Arrays.copyOfRange(all, 1, end));
      if (c.has("sequences_scores")) {
        assertThat((double) got.get(k).score())
            .as(name + " row " + i + " score " + k)
            .isCloseTo(c.get("sequences_scores").get(i * returned + k).asDouble(), within(1e-4));
      }
    }
  }

  /**
   * The T5 model, holding the worker in its first decoder step until released, and counting joins
   * into a batch that is already decoding.
   */
  private static final class HeldModel extends ForwardingEngineModel {
    final CountDownLatch stepEntered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger joinsIntoRunningBatch = new AtomicInteger();

    HeldModel(T5Model delegate) {
      super(delegate);
    }

    @Override
    public <T> List<RunningBatch.Finished<T>> join(
        DecodingBatch<T> batch, List<RunningBatch.Input<T>> joiners) {
      if (!batch.isEmpty()) {
        joinsIntoRunningBatch.incrementAndGet();
      }
      return delegate.join(batch, joiners);
    }

    @Override
    public <T> List<RunningBatch.Finished<T>> step(DecodingBatch<T> batch) {
      if (stepEntered.getCount() > 0) {
        stepEntered.countDown();
        try {
          assertThat(release.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return delegate.step(batch);
    }

    @Override
    public void close() {
      // The shared model outlives each engine.
    }
  }
}
