package io.shoplens.processor.topology;

import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.Turn;
import io.shoplens.processor.inference.image.ImageDecodeException;
import io.shoplens.processor.topology.RejectedRecordException.UploadNotFoundException;
import io.shoplens.processor.topology.StoredState.Conversation;
import io.shoplens.processor.topology.StoredState.Job;
import io.shoplens.processor.topology.StoredState.Kind;
import io.shoplens.processor.topology.StoredState.StoredTurn;
import io.shoplens.processor.topology.StoredState.StoredUpload;
import io.shoplens.processor.topology.image.ImageResolver;
import io.shoplens.processor.topology.image.ImageResolver.ImageRefusedException;
import io.shoplens.processor.topology.recommend.Recommender;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs inference off the stream thread without giving up exactly-once.
 *
 * <p>Protocol:
 *
 * <ol>
 *   <li>{@link #process} writes the job to the changelogged in-flight store (in the transaction
 *       that also commits the input offset), then hands it to the engine. Nothing is forwarded
 *       there.
 *   <li>The engine's future completes on another thread; the completion is queued in memory.
 *   <li>A wall-clock punctuator on the stream thread forwards each completed result (or dead
 *       letter) and deletes the job from the in-flight store: output and deletion commit in one
 *       transaction.
 *   <li>On start (after restore), every job still in the store is submitted again.
 * </ol>
 *
 * <p>So after a crash a job is either uncommitted (its input is read again) or in the store
 * (submitted again), and its output is committed exactly when its deletion is: nothing lost,
 * nothing duplicated for a {@code read_committed} consumer. Re-running a job is safe because
 * generation is deterministic for a request (seeded).
 *
 * <p>Turns of one conversation run one after another: a question is submitted only when the
 * previous turn has been answered (and stored), so that its prompt includes that answer.
 *
 * <p>In-flight requests per instance are bounded by a shared {@link InFlightLimiter}. When it is
 * full, {@code process} waits for completions in slices of {@code inFlightWaitSlice}, at most
 * {@code inFlightMaxBlock} in all; a job that still does not fit stays recorded and is submitted by
 * the punctuator when room frees up.
 */
final class InferenceProcessor implements Processor<String, Job, String, SpecificRecord> {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceProcessor.class);

  private final ShopLensTopologyConfig config;
  private final Topics topics;
  private final InferenceEngine engine;
  private final ImageResolver resolver;
  private final InFlightLimiter limiter;
  private final Recommender recommender; // null: recommendations disabled

  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, Job> inFlight;
  private KeyValueStore<String, StoredUpload> uploads;
  private KeyValueStore<String, Conversation> conversations;
  private KeyValueStore<String, String> expiry;

  private final Map<String, Active> active = new LinkedHashMap<>();
  private final ArrayDeque<Active> ready = new ArrayDeque<>();
  private final Map<String, ArrayDeque<Active>> turns = new HashMap<>();
  // Filled by engine and resolver threads, drained by the punctuator on the stream thread.
  private final Queue<Completion> completions = new ConcurrentLinkedQueue<>();

  /** A job known to this processor, with what its submission needs. */
  private static final class Active {
    Job job;
    int submissions;
    boolean submitted;
    long retryAt = Long.MAX_VALUE;
    ImageUploaded upload;
    QuestionAsked question;
    DecodingOptions options;
    long seed;
    long submittedNanos;

    Active(Job job) {
      this.job = job;
    }
  }

  private record Completion(
      String jobId,
      int submission,
      List<GenerationResult> results,
      float[] embedding,
      Throwable error,
      long nanos) {}

  /** An upload's generation results, and its image embedding when recommending. */
  private record Outcome(List<GenerationResult> results, float[] embedding) {}

  private record Failure(ProcessingStage stage, boolean retriable, boolean counts) {}

  InferenceProcessor(
      ShopLensTopologyConfig config,
      Topics topics,
      InferenceEngine engine,
      ImageResolver resolver,
      InFlightLimiter limiter) {
    this(config, topics, engine, resolver, limiter, null);
  }

  /**
   * @param recommender when not null, each upload's caption job also embeds the image, and a
   *     RecommendationsIssued is forwarded right after its ImageCaptioned, in the same transaction
   */
  InferenceProcessor(
      ShopLensTopologyConfig config,
      Topics topics,
      InferenceEngine engine,
      ImageResolver resolver,
      InFlightLimiter limiter,
      Recommender recommender) {
    this.config = config;
    this.topics = topics;
    this.engine = engine;
    this.resolver = resolver;
    this.limiter = limiter;
    this.recommender = recommender;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    inFlight = context.getStateStore(ShopLensTopology.IN_FLIGHT_STORE);
    uploads = context.getStateStore(ShopLensTopology.UPLOADS_STORE);
    conversations = context.getStateStore(ShopLensTopology.CONVERSATIONS_STORE);
    expiry = context.getStateStore(ShopLensTopology.EXPIRY_STORE);
    // Stores are restored before processors are initialised: what is left was accepted, but its
    // result was never committed. Key order is arrival order per topic, which keeps turns in order.
    List<Job> recovered = StoreValues.all(inFlight);
    for (Job job : recovered) {
      admit(job);
    }
    if (!recovered.isEmpty()) {
      LOG.info(
          "task {}: re-submitting {} in-flight jobs left from an earlier run",
          context.taskId(),
          recovered.size());
      submitReady(false);
    }
    context.schedule(
        config.punctuationInterval(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
  }

  @Override
  public void process(Record<String, Job> record) {
    Job job = record.value();
    inFlight.put(job.id(), job);
    admit(job);
    submitReady(true);
  }

  private void admit(Job job) {
    Active a = new Active(job);
    active.put(job.id(), a);
    if (job.conversationKey() == null) {
      ready.add(a);
      return;
    }
    ArrayDeque<Active> queue =
        turns.computeIfAbsent(job.conversationKey(), k -> new ArrayDeque<>());
    queue.add(a);
    if (queue.size() == 1) {
      ready.add(a);
    }
  }

  /** Submits ready jobs in order while the limiter has room; may wait when {@code mayBlock}. */
  private void submitReady(boolean mayBlock) {
    long deadline = System.nanoTime() + config.inFlightMaxBlock().toNanos();
    while (!ready.isEmpty()) {
      Active a = ready.peek();
      int weight = weight(a.job);
      boolean admitted = limiter.tryAcquire(weight);
      while (!admitted && mayBlock && System.nanoTime() < deadline) {
        admitted = limiter.tryAcquire(weight, config.inFlightWaitSlice());
        if (Thread.currentThread().isInterrupted()) {
          break;
        }
      }
      if (!admitted) {
        if (mayBlock) {
          LOG.warn(
              "{} engine requests in flight (limit {}) for {}; {} jobs wait for the punctuator",
              limiter.inFlight(),
              limiter.capacity(),
              config.inFlightMaxBlock(),
              ready.size());
        }
        return;
      }
      ready.poll();
      submit(a, weight);
    }
  }

  private int weight(Job job) {
    return job.kind() == Kind.CAPTION
        ? 1 + config.attributePrompts().size() + (recommender != null ? 1 : 0)
        : 1;
  }

  private void submit(Active a, int weight) {
    int submission = ++a.submissions;
    a.submitted = true;
    a.retryAt = Long.MAX_VALUE;
    a.submittedNanos = System.nanoTime();
    CompletableFuture<Outcome> results;
    try {
      List<Turn> history = prepare(a);
      boolean embed = recommender != null && a.job.kind() == Kind.CAPTION;
      results =
          resolver
              .resolve(a.upload)
              .thenCompose(
                  image -> {
                    CompletableFuture<List<GenerationResult>> generated =
                        runAll(requests(a, image.bytes(), history));
                    if (!embed) {
                      return generated.thenApply(r -> new Outcome(r, null));
                    }
                    // Same image as the caption: the engine's vision cache makes this nearly free.
                    return generated.thenCombine(
                        engine.embed(a.job.id() + "/embedding", image.bytes()), Outcome::new);
                  });
    } catch (RuntimeException e) {
      results = CompletableFuture.failedFuture(e);
    }
    String id = a.job.id();
    long start = a.submittedNanos;
    results.whenComplete(
        (done, error) -> {
          limiter.release(weight);
          completions.add(
              new Completion(
                  id,
                  submission,
                  done == null ? null : done.results(),
                  done == null ? null : done.embedding(),
                  unwrap(error),
                  System.nanoTime() - start));
        });
  }

  /** Reads what the job needs from its input and the stores; returns the conversation so far. */
  private List<Turn> prepare(Active a) {
    Job job = a.job;
    if (job.kind() == Kind.CAPTION) {
      a.upload = read(topics.imageUploads().valueSerde().deserializer(), job.origin());
      return List.of();
    }
    a.question = read(topics.questions().valueSerde().deserializer(), job.origin());
    a.options = InferenceEvents.answerOptions(config, a.question.getGenerationOptions());
    a.seed = InferenceEvents.seed(a.question.getGenerationOptions(), a.question.getQuestionId());
    StoredUpload stored = uploads.get(job.uploadId());
    if (stored == null) {
      throw new UploadNotFoundException(
          "upload " + job.uploadId() + " is no longer kept (uploadRetention)");
    }
    a.upload = read(topics.imageUploads().valueSerde().deserializer(), stored.origin());
    if (job.conversationKey() == null) {
      return List.of();
    }
    Conversation c = liveConversation(job.conversationKey());
    return c == null
        ? List.of()
        : c.turns().stream().map(t -> new Turn(t.question(), t.answer())).toList();
  }

  private List<GenerationRequest> requests(Active a, byte[] image, List<Turn> history) {
    Job job = a.job;
    if (job.kind() == Kind.ANSWER) {
      return List.of(
          GenerationRequest.question(
              job.id() + "/answer", image, a.question.getText(), history, a.options, a.seed));
    }
    String uploadId = a.upload.getUploadId();
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(
        GenerationRequest.caption(
            job.id() + "/caption",
            image,
            config.captionOptions(),
            InferenceEvents.seed(null, "caption/" + uploadId)));
    for (ShopLensTopologyConfig.AttributePrompt p : config.attributePrompts()) {
      requests.add(
          GenerationRequest.question(
              job.id() + "/attribute/" + p.name(),
              image,
              p.question(),
              List.of(),
              config.attributeOptions(),
              InferenceEvents.seed(null, "attribute/" + p.name() + "/" + uploadId)));
    }
    return requests;
  }

  private CompletableFuture<List<GenerationResult>> runAll(List<GenerationRequest> requests) {
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>();
    for (GenerationRequest r : requests) {
      futures.add(engine.submit(r));
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(v -> futures.stream().map(CompletableFuture::join).toList());
  }

  private void punctuate(long now) {
    Completion c;
    while ((c = completions.poll()) != null) {
      complete(c, now);
    }
    for (Active a : active.values()) {
      if (!a.submitted && a.retryAt <= now) {
        a.retryAt = Long.MAX_VALUE;
        ready.add(a);
      }
    }
    submitReady(false);
  }

  private void complete(Completion c, long now) {
    Active a = active.get(c.jobId());
    if (a == null || a.submissions != c.submission()) {
      return; // from an earlier submission that was already settled
    }
    a.submitted = false;
    Job job = a.job;
    if (c.error() == null) {
      forwardResult(a, c, now);
      finish(a, c.results().get(0));
      return;
    }
    Failure f = classify(c.error());
    int attempts = f.counts() ? job.attempts() + 1 : job.attempts();
    if (!f.retriable() || attempts >= config.maxAttempts()) {
      LOG.info(
          "dead-lettering {} at stage {} after {} attempts: {}",
          job.origin().coordinates(),
          f.stage(),
          Math.max(1, attempts),
          c.error().toString());
      forward(
          job,
          InferenceEvents.deadLetter(
              job.origin(), f.stage(), c.error(), Math.max(1, attempts), now),
          null);
      finish(a, null);
      return;
    }
    LOG.debug("retrying {} (attempt {}): {}", job.id(), attempts + 1, c.error().toString());
    Job next = job.withAttempts(attempts);
    inFlight.put(next.id(), next);
    a.job = next;
    a.retryAt = now + config.retryBackoff().toMillis();
  }

  private void forwardResult(Active a, Completion c, long now) {
    Job job = a.job;
    GenerationResult first = c.results().get(0);
    SpecificRecord out =
        job.kind() == Kind.CAPTION
            ? InferenceEvents.captioned(
                config,
                a.upload,
                job.origin(),
                first,
                c.results().subList(1, c.results().size()),
                c.nanos(),
                now)
            : InferenceEvents.answered(
                config, a.question, job.origin(), a.options, a.seed, first, c.nanos(), now);
    forward(job, out, first.modelVersion());
    if (recommender != null && out instanceof ImageCaptioned captioned) {
      forward(
          job,
          recommender.recommend(
              a.upload,
              captioned.getAttributes(),
              c.embedding(),
              captioned.getModel(),
              captioned.getLineage(),
              now),
          first.modelVersion());
    }
  }

  /** Removes a settled job; a conversation's next turn becomes ready. */
  private void finish(Active a, GenerationResult answer) {
    Job job = a.job;
    inFlight.delete(job.id());
    active.remove(job.id());
    if (job.conversationKey() == null) {
      return;
    }
    if (answer != null) {
      remember(job.conversationKey(), a.question.getText(), answer.text());
    }
    ArrayDeque<Active> queue = turns.get(job.conversationKey());
    queue.remove(a);
    if (queue.isEmpty()) {
      turns.remove(job.conversationKey());
    } else {
      ready.add(queue.peek());
    }
  }

  private void remember(String conversationKey, String question, String answer) {
    long now = context.currentSystemTimeMs();
    Conversation c = liveConversation(conversationKey);
    if (c == null) {
      c = new Conversation(List.of(), now);
    }
    StoredTurn turn =
        new StoredTurn(
            question,
            answer,
            StoredState.estimateTokens(question) + StoredState.estimateTokens(answer));
    conversations.put(
        conversationKey,
        c.append(turn, config.conversationMaxTurns(), config.conversationMaxTokens(), now));
    expiry.put(
        IntakeProcessor.indexKey(now + config.conversationTtl().toMillis(), 'C', conversationKey),
        "");
  }

  private Conversation liveConversation(String conversationKey) {
    Conversation c = conversations.get(conversationKey);
    if (c == null
        || c.updatedAt() + config.conversationTtl().toMillis() <= context.currentSystemTimeMs()) {
      return null;
    }
    return c;
  }

  private void forward(Job job, SpecificRecord value, String modelVersion) {
    Origin o = job.origin();
    context.forward(
        new Record<>(
            job.uploadId(),
            value,
            o.timestamp(),
            LineageHeaders.of(
                o.topic(), o.partition(), o.offset(), modelVersion, config.replayRunId())));
  }

  private static <T> T read(
      org.apache.kafka.common.serialization.Deserializer<T> deserializer, Origin origin) {
    return deserializer.deserialize(origin.topic(), origin.value());
  }

  private static Failure classify(Throwable e) {
    if (e instanceof RejectedRecordException r) {
      return new Failure(r.stage(), false, true);
    }
    if (e instanceof ImageRefusedException r) {
      return new Failure(ProcessingStage.RESOLVE_IMAGE, r.retriable(), true);
    }
    if (e instanceof ImageDecodeException || e instanceof IllegalArgumentException) {
      // A bad image or prompt fails the same way every time.
      return new Failure(ProcessingStage.PREPROCESS, false, true);
    }
    if (e instanceof RequestRejectedException) {
      // The engine was full or closing and never ran it: not the record's fault.
      return new Failure(ProcessingStage.INFERENCE, true, false);
    }
    return new Failure(ProcessingStage.INFERENCE, true, true);
  }

  private static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  @Override
  public void close() {
    // Futures still running complete into a queue nobody reads; they give their permits back.
    // Their jobs stay in the store and are submitted again wherever the task is reopened.
    active.clear();
    ready.clear();
    turns.clear();
  }
}
