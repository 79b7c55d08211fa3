package io.shoplens.processor.testing;

import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.FinishReason;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.ImageEmbeddings;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.InferenceException;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.StageTimings;
import io.shoplens.processor.inference.image.ImageDecoder;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The one engine stand-in for tests that need no model: fast, deterministic, and configurable to
 * what a test needs.
 *
 * <ul>
 *   <li>By default it decodes the image with the real {@link ImageDecoder} (so corrupt and
 *       oversized images fail as with the real engine) and answers with text that shows what it was
 *       asked: {@code caption of 400 bytes}, or {@code answer[what colour?|1]} for a question after
 *       one earlier turn. It cannot embed images (the future fails with {@link
 *       UnsupportedOperationException}, as an engine without a vision embedding would).
 *   <li>{@link #answering} replaces the text (and skips the decoding); {@link #embedding} lets it
 *       embed; {@link #seeing} makes both read a test "image" that spells out what the model sees.
 *   <li>{@link #hold()} keeps futures open until {@link #releaseAll()} (inference still running);
 *       {@link #failing} injects model failures; {@link #close()} fails what is held and refuses
 *       what comes after with {@link RequestRejectedException}, as the real engine does.
 * </ul>
 */
public final class FakeEngine implements InferenceEngine {
  /** The model version on every result. */
  public static final String VERSION = "fake-model-v1";

  /** The text that makes {@link #answeringFrom} fail a request. */
  public static final String FAIL = "<fail>";

  /** Every generation request, in order. */
  public final List<GenerationRequest> submitted = new CopyOnWriteArrayList<>();

  /** The request id of every embedding request, in order. */
  public final List<String> embedded = new CopyOnWriteArrayList<>();

  private final List<Pending> held = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> failuresLeft = new ConcurrentHashMap<>();
  private volatile Function<GenerationRequest, String> answers = FakeEngine::describe;
  private volatile Function<byte[], float[]> embeddings;
  private volatile Predicate<GenerationRequest> failing = r -> false;
  private volatile int failures;
  private volatile boolean hold;
  private volatile boolean closed;
  private volatile String version = VERSION;

  private record Pending(GenerationRequest request, CompletableFuture<GenerationResult> future) {}

  /**
   * An engine whose "images" are UTF-8 text that says what the model sees, e.g. {@code colour=navy
   * blue;category=tee;vec=1,0,0} (see {@link #image}): captions read "a photo", attribute questions
   * of {@code config} are answered with the named value (or "i don't know"), other questions with
   * "no idea"; embeddings are {@code vec} normalised, and an image without {@code vec} fails to
   * embed as a bad image would ({@link IllegalArgumentException}).
   */
  public static FakeEngine seeing(ShopLensTopologyConfig config) {
    Map<String, String> attributeByQuestion = new HashMap<>();
    for (ShopLensTopologyConfig.AttributePrompt p : config.attributePrompts()) {
      attributeByQuestion.put(p.question(), p.name());
    }
    return new FakeEngine()
        .answering(
            r -> {
              if (r.question() == null) {
                return "a photo";
              }
              String attribute = attributeByQuestion.get(r.question());
              return attribute == null
                  ? "no idea"
                  : parse(r.image()).getOrDefault(attribute, "i don't know");
            })
        .embedding(
            image -> {
              String vec = parse(image).get("vec");
              if (vec == null) {
                throw new IllegalArgumentException("not an image");
              }
              String[] parts = vec.split(",");
              float[] v = new float[parts.length];
              for (int i = 0; i < v.length; i++) {
                v[i] = Float.parseFloat(parts[i]);
              }
              return ImageEmbeddings.normalized(v);
            });
  }

  /** An image for {@link #seeing} whose model view is {@code spec}. */
  public static byte[] image(String spec) {
    return spec.getBytes(StandardCharsets.UTF_8);
  }

  private static Map<String, String> parse(byte[] image) {
    Map<String, String> out = new HashMap<>();
    for (String part : new String(image, StandardCharsets.UTF_8).split(";")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        out.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
      }
    }
    return out;
  }

  /** The default text: decodes the image first, then says what was asked. */
  private static String describe(GenerationRequest request) {
    new ImageDecoder().decode(request.image());
    return request.question() == null
        ? "caption of " + request.image().length + " bytes"
        : "answer[" + request.question() + "|" + request.history().size() + "]";
  }

  /** Reports {@code modelVersion} instead of {@link #VERSION}, on every result too. */
  public FakeEngine version(String modelVersion) {
    this.version = modelVersion;
    return this;
  }

  /**
   * Answers each request with the text given for its question ({@code caption} for a caption),
   * failing a request whose text is {@link #FAIL} with an {@link InferenceException}; a question
   * with no text given fails the test.
   */
  public FakeEngine answeringFrom(Map<String, String> textByQuestion) {
    Map<String, String> texts = Map.copyOf(textByQuestion);
    return answering(
        r -> {
          String key = r.question() == null ? "caption" : r.question();
          String text = texts.get(key);
          if (text == null) {
            throw new IllegalStateException("the test gave no answer for '" + key + "'");
          }
          if (text.equals(FAIL)) {
            throw new InferenceException("decoder failed for " + key);
          }
          return text;
        });
  }

  /** Answers every request with {@code text} (which may throw to fail it). */
  public FakeEngine answering(Function<GenerationRequest, String> text) {
    this.answers = text;
    return this;
  }

  /** Embeds with {@code embedder} (which may throw to fail it). */
  public FakeEngine embedding(Function<byte[], float[]> embedder) {
    this.embeddings = embedder;
    return this;
  }

  /** Keeps every request's future open until {@link #releaseAll()} or {@link #close()}. */
  public FakeEngine hold() {
    hold = true;
    return this;
  }

  /** Requests matching {@code which} fail with an InferenceException {@code times} times each. */
  public FakeEngine failing(Predicate<GenerationRequest> which, int times) {
    failing = which;
    failuresLeft.clear();
    failures = times;
    return this;
  }

  /** Completes every held request and stops holding. */
  public void releaseAll() {
    hold = false;
    for (Pending p : takeHeld()) {
      complete(p.request(), p.future());
    }
  }

  /** Fails every held request with {@code error}, and keeps holding. */
  public void failHeld(Throwable error) {
    for (Pending p : takeHeld()) {
      p.future().completeExceptionally(error);
    }
  }

  /** Requests held now. */
  public int heldCount() {
    return held.size();
  }

  /** Whether {@link #close()} was called. */
  public boolean closed() {
    return closed;
  }

  @Override
  public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
    if (closed) {
      return CompletableFuture.failedFuture(new RequestRejectedException("engine closed"));
    }
    submitted.add(request);
    CompletableFuture<GenerationResult> future = new CompletableFuture<>();
    if (hold) {
      held.add(new Pending(request, future));
    } else {
      complete(request, future);
    }
    return future;
  }

  @Override
  public CompletableFuture<float[]> embed(String requestId, byte[] image) {
    embedded.add(requestId);
    Function<byte[], float[]> embedder = embeddings;
    if (embedder == null) {
      return CompletableFuture.failedFuture(
          new UnsupportedOperationException("this FakeEngine does not embed (" + requestId + ")"));
    }
    try {
      return CompletableFuture.completedFuture(embedder.apply(image));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private List<Pending> takeHeld() {
    List<Pending> now = new ArrayList<>(held);
    held.removeAll(now);
    return now;
  }

  private void complete(GenerationRequest request, CompletableFuture<GenerationResult> future) {
    try {
      future.complete(run(request));
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
  }

  private GenerationResult run(GenerationRequest request) {
    String text = answers.apply(request);
    if (failing.test(request)) {
      AtomicInteger left =
          failuresLeft.computeIfAbsent(request.requestId(), k -> new AtomicInteger(failures));
      if (left.getAndDecrement() > 0) {
        throw new InferenceException("injected model failure for " + request.requestId());
      }
    }
    Duration ms = Duration.ofMillis(1);
    // Further sequences asked for (several captions, beams returned) are "<text> #2", "#3", ...
    List<GenerationResult.Sequence> alternatives = new ArrayList<>();
    for (int i = 2; i <= request.options().numReturnSequences(); i++) {
      alternatives.add(
          new GenerationResult.Sequence(
              text + " #" + i, new long[] {7, 2}, FinishReason.STOP, Float.NaN));
    }
    return new GenerationResult(
        request.requestId(),
        version,
        text,
        new long[] {7, 2},
        FinishReason.STOP,
        40,
        2,
        Float.NaN,
        alternatives,
        new StageTimings(ms, ms, ms, ms),
        false);
  }

  @Override
  public EngineStats stats() {
    return EngineStats.empty();
  }

  @Override
  public String modelVersion() {
    return version;
  }

  /** Stops accepting requests and fails those held, as the real engine does. */
  @Override
  public void close() {
    closed = true;
    failHeld(new RequestRejectedException("engine closed"));
  }
}
