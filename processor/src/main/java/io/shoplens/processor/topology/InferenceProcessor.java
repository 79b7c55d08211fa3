package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.GenerationOptions;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.Turn;
import io.shoplens.processor.inference.retrieval.RetrievalEngine;
import io.shoplens.processor.topology.InferenceJob.Kind;
import io.shoplens.processor.topology.RejectedRecordException.UploadNotFoundException;
import io.shoplens.processor.topology.StoredState.Conversation;
import io.shoplens.processor.topology.StoredState.StoredTurn;
import io.shoplens.processor.topology.StoredState.StoredUpload;
import io.shoplens.processor.topology.jobs.AsyncJobs;
import io.shoplens.processor.topology.jobs.InFlightLimiter;
import io.shoplens.processor.topology.jobs.JobWork;
import io.shoplens.processor.topology.recommend.CatalogIndex;
import io.shoplens.processor.topology.recommend.Recommender;
import io.shoplens.processor.topology.search.RelatedProducts;
import io.shoplens.processor.topology.search.UploadVector;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Captions uploads and answers questions with the engine, off the stream thread, through the
 * exactly-once job protocol of {@link AsyncJobs} (store {@value ShopLensTopology#IN_FLIGHT_STORE}):
 * this class says only what a job needs (its upload, question, options, seed and conversation so
 * far, read when it starts) and what its result becomes (an ImageCaptioned, then a
 * RecommendationsIssued when recommending; or a QuestionAnswered).
 *
 * <p>Turns of one conversation run one after another (the job's sequence key is its conversation):
 * a question starts only when the previous turn has been answered and stored, so that its prompt
 * includes that answer.
 *
 * <p>With a retrieval model, a caption job also computes the upload's retrieval image features:
 * their pooled vector is published for searches ({@link InferenceOutput.UploadEmbedded}) and is
 * what recommendations compare with the catalog (instead of the generation engine's embedding); and
 * an answer job computes them too (the retrieval engine's cache makes that free after the caption)
 * to attach its {@link RelatedProducts}.
 *
 * <p>Engine requests in flight per instance are bounded by a {@link InFlightLimiter} shared by
 * every task; a caption job weighs one request per caption, attribute prompt and embedding (or
 * retrieval features), an answer one, plus one for the retrieval features of related products.
 */
final class InferenceProcessor implements Processor<String, InferenceJob, String, InferenceOutput> {
  private final ShopLensTopologyConfig config;
  private final Topics topics;
  private final InferenceServices services;
  private final Recommender recommender; // null: recommendations disabled
  private final RetrievalEngine retrieval; // null: no retrieval model
  private final CatalogIndex related; // null: no related products
  private final AsyncJobs<InferenceJob, Outcome> jobs;

  private ProcessorContext<String, InferenceOutput> context;
  private KeyValueStore<String, StoredUpload> uploads;
  private KeyValueStore<String, Conversation> conversations;
  private KeyValueStore<ExpiryKey, String> expiry;

  /**
   * What a job's submission read from its input and the stores: for a caption job, the caption's
   * options and seed; for an answer, the question's.
   */
  private record Inputs(
      ImageUploaded upload,
      QuestionAsked question,
      DecodingOptions options,
      long seed,
      List<Turn> history) {}

  /** An image embedding and the model version it belongs to. */
  private record Embedding(float[] vector, String modelVersion) {}

  /**
   * A finished job: its inputs, generation results, and the image embedding when one was asked for
   * (recommendations, a retrieval model).
   */
  private record Outcome(
      Inputs inputs, List<GenerationResult> results, Embedding embedding, long nanos) {}

  /**
   * @param services the engine, the retrieval model (or none) and the image resolver
   * @param limiter the in-flight bound shared by every task of this instance
   * @param recommender when not null, each upload's caption job also embeds the image, and a
   *     RecommendationsIssued is forwarded right after its ImageCaptioned, in the same transaction
   * @param related the catalog answers' related products are found in; null for none
   */
  InferenceProcessor(
      ShopLensTopologyConfig config,
      Topics topics,
      InferenceServices services,
      InFlightLimiter limiter,
      Recommender recommender,
      CatalogIndex related) {
    this.config = config;
    this.topics = topics;
    this.services = services;
    this.retrieval = services.retrieval();
    this.recommender = recommender;
    this.related = retrieval != null && config.retrieval().relatedProducts() > 0 ? related : null;
    this.jobs =
        new AsyncJobs<>(
            ShopLensTopology.IN_FLIGHT_STORE,
            AsyncJobs.Settings.of(config, true),
            limiter,
            new Work());
  }

  @Override
  public void init(ProcessorContext<String, InferenceOutput> context) {
    this.context = context;
    uploads = context.getStateStore(ShopLensTopology.UPLOADS_STORE);
    conversations = context.getStateStore(ShopLensTopology.CONVERSATIONS_STORE);
    expiry = context.getStateStore(ShopLensTopology.EXPIRY_STORE);
    // Key order of the in-flight store is arrival order per topic, which keeps turns in order.
    jobs.init(context);
  }

  @Override
  public void process(Record<String, InferenceJob> record) {
    jobs.accept(record.value());
  }

  @Override
  public void close() {
    jobs.close();
  }

  /** The inference domain of the job protocol. */
  private final class Work implements JobWork<InferenceJob, Outcome> {
    @Override
    public int weight(InferenceJob job) {
      return job.kind() == Kind.CAPTION
          ? 1 + config.attributePrompts().size() + (embeds(job) ? 1 : 0)
          : 1 + (embeds(job) ? 1 : 0);
    }

    @Override
    public CompletableFuture<Outcome> start(InferenceJob job) {
      long start = System.nanoTime();
      Inputs inputs = prepare(job);
      boolean embed = embeds(job);
      return services
          .resolver()
          .resolve(inputs.upload().getImage())
          .thenCompose(
              image -> {
                CompletableFuture<List<GenerationResult>> generated =
                    runAll(requests(job, inputs, image.bytes()));
                if (!embed) {
                  return generated.thenApply(
                      r -> new Outcome(inputs, r, null, System.nanoTime() - start));
                }
                return generated.thenCombine(
                    embedding(job, image.bytes()),
                    (r, e) -> new Outcome(inputs, r, e, System.nanoTime() - start));
              });
    }

    @Override
    public void succeeded(InferenceJob job, Outcome outcome, long now) {
      forwardResult(job, outcome, now);
      if (job.conversationKey() != null) {
        remember(
            job.conversationKey(),
            outcome.inputs().question().getText(),
            outcome.results().get(0).text());
      }
    }

    @Override
    public void failed(InferenceJob job, DeadLetter letter, Throwable error, long now) {
      forward(job, new InferenceOutput.DeadLettered(letter), null);
    }
  }

  /** Whether the job also embeds its image. */
  private boolean embeds(InferenceJob job) {
    return job.kind() == Kind.CAPTION ? recommender != null || retrieval != null : related != null;
  }

  /**
   * The image's retrieval features pooled, with a retrieval model; else the generation engine's
   * embedding (the same image as the caption: its vision cache makes this nearly free).
   */
  private CompletableFuture<Embedding> embedding(InferenceJob job, byte[] image) {
    String requestId = job.id() + "/embedding";
    if (retrieval != null) {
      String version = retrieval.modelVersion();
      return retrieval
          .uploadImageFeatures(requestId, image)
          .thenApply(f -> new Embedding(f.pooled(), version));
    }
    String version = services.engine().modelVersion();
    return services.engine().embed(requestId, image).thenApply(e -> new Embedding(e, version));
  }

  /** Reads what the job needs from its input and the stores. */
  private Inputs prepare(InferenceJob job) {
    if (job.kind() == Kind.CAPTION) {
      ImageUploaded upload = read(topics.imageUploads().valueSerde().deserializer(), job.origin());
      GenerationOptions asked = upload.getCaptionOptions();
      return new Inputs(
          upload,
          null,
          InferenceEvents.captionOptions(config, asked),
          InferenceEvents.seed(asked, "caption/" + upload.getUploadId()),
          List.of());
    }
    QuestionAsked question = read(topics.questions().valueSerde().deserializer(), job.origin());
    DecodingOptions options =
        InferenceEvents.answerOptions(config, question.getGenerationOptions());
    long seed = InferenceEvents.seed(question.getGenerationOptions(), question.getQuestionId());
    StoredUpload stored = uploads.get(job.uploadId());
    if (stored == null) {
      throw new UploadNotFoundException(
          "upload " + job.uploadId() + " is no longer kept (uploadRetention)");
    }
    ImageUploaded upload = read(topics.imageUploads().valueSerde().deserializer(), stored.origin());
    List<Turn> history = List.of();
    if (job.conversationKey() != null) {
      Conversation c = liveConversation(job.conversationKey());
      if (c != null) {
        history = c.turns().stream().map(t -> new Turn(t.question(), t.answer())).toList();
      }
    }
    return new Inputs(upload, question, options, seed, history);
  }

  private List<GenerationRequest> requests(InferenceJob job, Inputs in, byte[] image) {
    if (job.kind() == Kind.ANSWER) {
      return List.of(
          GenerationRequest.question(
              job.id() + "/answer",
              image,
              in.question().getText(),
              in.history(),
              in.options(),
              in.seed()));
    }
    String uploadId = in.upload().getUploadId();
    List<GenerationRequest> requests = new ArrayList<>();
    requests.add(GenerationRequest.caption(job.id() + "/caption", image, in.options(), in.seed()));
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
      futures.add(services.engine().submit(r));
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(v -> futures.stream().map(CompletableFuture::join).toList());
  }

  private void forwardResult(InferenceJob job, Outcome o, long now) {
    Inputs in = o.inputs();
    GenerationResult first = o.results().get(0);
    String version = first.modelVersion();
    if (job.kind() == Kind.ANSWER) {
      QuestionAnswered answered =
          InferenceEvents.answered(
              config, in.question(), job.origin(), in.options(), in.seed(), first, o.nanos(), now);
      if (related != null && o.embedding() != null) {
        answered.setRelatedProducts(
            RelatedProducts.find(
                related,
                o.embedding().vector(),
                o.embedding().modelVersion(),
                config.retrieval().relatedProducts()));
      }
      forward(job, new InferenceOutput.Answered(answered), version);
      return;
    }
    ImageCaptioned captioned =
        InferenceEvents.captioned(
            config,
            in.upload(),
            job.origin(),
            first,
            o.results().subList(1, o.results().size()),
            o.nanos(),
            now);
    forward(job, new InferenceOutput.Captioned(captioned), version);
    if (retrieval != null && o.embedding() != null) {
      Embedding e = o.embedding();
      forward(
          job,
          new InferenceOutput.UploadEmbedded(
              new UploadVector(in.upload().getUploadId(), e.modelVersion(), e.vector())
                  .event(
                      in.upload(),
                      retrieval.modelId(),
                      captioned.getLineage(),
                      Instant.ofEpochMilli(now))),
          e.modelVersion());
    }
    if (recommender != null) {
      RecommendationsIssued recommended =
          recommender.recommend(
              in.upload(),
              captioned.getAttributes(),
              o.embedding() == null ? null : o.embedding().vector(),
              o.embedding() == null ? version : o.embedding().modelVersion(),
              captioned.getModel(),
              captioned.getLineage(),
              now);
      forward(job, new InferenceOutput.Recommended(recommended), version);
    }
  }

  private void remember(String conversationKey, String question, String answer) {
    long now = context.currentSystemTimeMs();
    Conversation c = liveConversation(conversationKey);
    if (c == null) {
      c = new Conversation(List.of(), now);
    } else {
      // The new turn moves the conversation's expiry: drop the entry it supersedes, so that the
      // index holds one entry per conversation rather than one per turn within the TTL.
      expiry.delete(
          new ExpiryKey(
              c.updatedAt() + config.conversationTtl().toMillis(),
              ExpiryKey.Kind.CONVERSATION,
              conversationKey));
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
        new ExpiryKey(
            now + config.conversationTtl().toMillis(),
            ExpiryKey.Kind.CONVERSATION,
            conversationKey),
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

  private void forward(InferenceJob job, InferenceOutput value, String modelVersion) {
    context.forward(job.origin().output(job.uploadId(), value, modelVersion, config.replayRunId()));
  }

  private static <T> T read(Deserializer<T> deserializer, Origin origin) {
    return deserializer.deserialize(origin.topic(), origin.value());
  }
}
