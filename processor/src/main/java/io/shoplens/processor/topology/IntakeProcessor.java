package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.topology.InferenceJob.Kind;
import io.shoplens.processor.topology.RejectedRecordException.InvalidRecordException;
import io.shoplens.processor.topology.RejectedRecordException.UploadNotFoundException;
import io.shoplens.processor.topology.StoredState.Conversation;
import io.shoplens.processor.topology.StoredState.StoredUpload;
import io.shoplens.processor.topology.StoredState.WaitingQuestion;
import io.shoplens.processor.topology.jobs.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates uploads and questions, keeps uploads for the questions about them, and joins each
 * question with its upload (same key, same partition, so the join is local). A question that comes
 * before its upload waits in a store, bounded in count per task and in time; when the upload comes
 * the waiting questions follow it in arrival order, and when the time runs out the question is
 * dead-lettered as "upload not found".
 *
 * <p>Every accepted record becomes a {@link IntakeDecision.Submit} for the inference processor,
 * every refused one a {@link IntakeDecision.Reject}; both are forwarded in the same transaction as
 * the store writes.
 *
 * <p>Expiry (uploads, waiting questions, idle conversations) is driven by an index store keyed by
 * {@link ExpiryKey}, in expiry order, so a sweep reads only what has expired.
 */
final class IntakeProcessor implements Processor<String, ValueWithBytes, String, IntakeDecision> {
  private static final Logger LOG = LoggerFactory.getLogger(IntakeProcessor.class);
  private static final char SEP = '\u0000';
  private static final StringSerializer KEY_SERIALIZER = new StringSerializer();

  private final ShopLensTopologyConfig config;
  private final Topics topics;
  private ProcessorContext<String, IntakeDecision> context;
  private KeyValueStore<String, StoredUpload> uploads;
  private KeyValueStore<String, WaitingQuestion> waiting;
  private KeyValueStore<String, Conversation> conversations;
  private KeyValueStore<ExpiryKey, String> expiry;
  private int waitingCount;

  IntakeProcessor(ShopLensTopologyConfig config, Topics topics) {
    this.config = config;
    this.topics = topics;
  }

  @Override
  public void init(ProcessorContext<String, IntakeDecision> context) {
    this.context = context;
    uploads = context.getStateStore(ShopLensTopology.UPLOADS_STORE);
    waiting = context.getStateStore(ShopLensTopology.WAITING_QUESTIONS_STORE);
    conversations = context.getStateStore(ShopLensTopology.CONVERSATIONS_STORE);
    expiry = context.getStateStore(ShopLensTopology.EXPIRY_STORE);
    waitingCount = 0;
    try (KeyValueIterator<String, WaitingQuestion> all = waiting.all()) {
      while (all.hasNext()) {
        all.next();
        waitingCount++;
      }
    }
    context.schedule(config.sweepInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweepExpired);
  }

  @Override
  public void process(Record<String, ValueWithBytes> record) {
    RecordMetadata meta = context.recordMetadata().orElseThrow();
    ValueWithBytes input = record.value();
    Origin origin =
        Origin.of(
            meta,
            record.key(),
            input == null ? null : input.raw(),
            record.timestamp(),
            record.headers());
    boolean isUpload = meta.topic().equals(topics.imageUploads().name());
    try {
      if (record.key() == null || record.key().isBlank()) {
        throw new InvalidRecordException("record has no key; the key must be the uploadId");
      }
      if (input == null) {
        if (isUpload) {
          // A tombstone withdraws the upload: later questions about it are not answered.
          uploads.delete(record.key());
          return;
        }
        throw new InvalidRecordException("question record has a null value");
      }
      if (input.value() instanceof ImageUploaded upload) {
        onUpload(record.key(), upload, origin);
      } else if (input.value() instanceof QuestionAsked question) {
        onQuestion(record.key(), question, origin);
      } else {
        throw new InvalidRecordException(
            "unexpected value type " + input.value().getClass().getName() + " on " + meta.topic());
      }
    } catch (RejectedRecordException e) {
      reject(origin, e.stage(), e);
    }
  }

  private void onUpload(String key, ImageUploaded upload, Origin origin) {
    validate(key, upload);
    long now = context.currentSystemTimeMs();
    uploads.put(key, new StoredUpload(origin, now));
    index(now + config.uploadRetention().toMillis(), ExpiryKey.Kind.UPLOAD, key);
    forward(new IntakeDecision.Submit(InferenceJob.of(Kind.CAPTION, key, null, origin)), origin);

    // Questions that came first now follow the upload, in arrival order (key order is offset
    // order within the partition).
    List<KeyValue<String, WaitingQuestion>> released = new ArrayList<>();
    try (KeyValueIterator<String, WaitingQuestion> it =
        waiting.prefixScan(key + SEP, KEY_SERIALIZER)) {
      while (it.hasNext()) {
        KeyValue<String, WaitingQuestion> kv = it.next();
        if (kv.value.uploadId().equals(key)) {
          released.add(kv);
        }
      }
    }
    for (KeyValue<String, WaitingQuestion> kv : released) {
      waiting.delete(kv.key);
      waitingCount--;
      WaitingQuestion w = kv.value;
      // Its index entry goes with it: left to the sweep, every question that came before its
      // upload kept an entry for the whole waiting time (the soak's expiry index ran about 100
      // entries above one per upload and conversation turn). Same time and key as in onQuestion.
      unindex(
          w.arrivedAt() + config.waitingQuestionTimeout().toMillis(),
          ExpiryKey.Kind.WAITING_QUESTION,
          kv.key);
      forward(
          new IntakeDecision.Submit(
              InferenceJob.of(Kind.ANSWER, key, w.conversationKey(), w.origin())),
          w.origin());
    }
  }

  private void onQuestion(String key, QuestionAsked question, Origin origin) {
    validate(key, question);
    String conversationKey =
        question.getConversationId() == null ? null : key + SEP + question.getConversationId();
    if (uploads.get(key) != null) {
      forward(
          new IntakeDecision.Submit(InferenceJob.of(Kind.ANSWER, key, conversationKey, origin)),
          origin);
      return;
    }
    if (waitingCount >= config.maxWaitingQuestions()) {
      throw new UploadNotFoundException(
          "upload "
              + key
              + " not found, and "
              + waitingCount
              + " questions already wait for their uploads (maxWaitingQuestions="
              + config.maxWaitingQuestions()
              + ")");
    }
    long now = context.currentSystemTimeMs();
    String waitKey = waitKey(key, origin.offset());
    waiting.put(waitKey, new WaitingQuestion(key, conversationKey, origin, now));
    waitingCount++;
    index(
        now + config.waitingQuestionTimeout().toMillis(), ExpiryKey.Kind.WAITING_QUESTION, waitKey);
  }

  private void validate(String key, ImageUploaded upload) {
    if (!key.equals(upload.getUploadId())) {
      throw new InvalidRecordException(
          "key '" + key + "' differs from uploadId '" + upload.getUploadId() + "'");
    }
    Object image = upload.getImage();
    if (image instanceof InlineImage inline) {
      int size = inline.getData().remaining();
      if (size == 0) {
        throw new InvalidRecordException("inline image has 0 bytes");
      }
      if (size > config.maxInlineImageBytes()) {
        throw new InvalidRecordException(
            "inline image has "
                + size
                + " bytes, more than maxInlineImageBytes="
                + config.maxInlineImageBytes());
      }
    } else if (image instanceof ImageReference ref) {
      if (ref.getSizeBytes() <= 0) {
        throw new InvalidRecordException(
            "image reference declares " + ref.getSizeBytes() + " bytes");
      }
    } else {
      throw new InvalidRecordException("image is neither inline nor a reference: " + image);
    }
    InferenceEvents.captionOptions(config, upload.getCaptionOptions());
  }

  private void validate(String key, QuestionAsked question) {
    if (!key.equals(question.getUploadId())) {
      throw new InvalidRecordException(
          "key '" + key + "' differs from uploadId '" + question.getUploadId() + "'");
    }
    String text = question.getText();
    if (text.isBlank()) {
      throw new InvalidRecordException("question text is blank");
    }
    if (text.length() > config.maxQuestionChars()) {
      throw new InvalidRecordException(
          "question has "
              + text.length()
              + " characters, more than maxQuestionChars="
              + config.maxQuestionChars());
    }
    InferenceEvents.answerOptions(config, question.getGenerationOptions());
  }

  private void sweepExpired(long now) {
    List<ExpiryKey> due = new ArrayList<>();
    // Key order is expiry order (see ExpiryKey): stop at the first entry not yet due.
    try (KeyValueIterator<ExpiryKey, String> it = expiry.all()) {
      while (it.hasNext()) {
        ExpiryKey next = it.next().key;
        if (next.expiresAt() > now) {
          break;
        }
        due.add(next);
      }
    }
    for (ExpiryKey entry : due) {
      expiry.delete(entry);
      String key = entry.key();
      switch (entry.kind()) {
        case UPLOAD -> {
          StoredUpload u = uploads.get(key);
          if (u != null && u.storedAt() + config.uploadRetention().toMillis() <= now) {
            uploads.delete(key);
            if (config.retrieval().enabled()) {
              // Searches may use an upload as long as questions may: both end here. Without this
              // the upload-embeddings topic and every global store grow by one upload for ever.
              context.forward(
                  new Record<String, IntakeDecision>(
                      key, new IntakeDecision.ForgetUploadFeatures(key), now));
            }
          }
        }
        case WAITING_QUESTION -> {
          WaitingQuestion w = waiting.get(key);
          if (w != null && w.arrivedAt() + config.waitingQuestionTimeout().toMillis() <= now) {
            waiting.delete(key);
            waitingCount--;
            reject(
                w.origin(),
                ProcessingStage.JOIN,
                new UploadNotFoundException(
                    "upload "
                        + w.uploadId()
                        + " not found within "
                        + config.waitingQuestionTimeout()
                        + " of the question"));
          }
        }
        case CONVERSATION -> {
          Conversation c = conversations.get(key);
          if (c != null && c.updatedAt() + config.conversationTtl().toMillis() <= now) {
            conversations.delete(key);
          }
        }
      }
    }
  }

  private void reject(Origin origin, ProcessingStage stage, Throwable error) {
    LOG.info("dead-lettering {} at stage {}: {}", origin.coordinates(), stage, error.getMessage());
    DeadLetter dl = DeadLetters.of(origin, stage, error, 1, context.currentSystemTimeMs());
    forward(new IntakeDecision.Reject(dl), origin);
  }

  private void forward(IntakeDecision decision, Origin origin) {
    String key = origin.key() == null ? null : new String(origin.key(), StandardCharsets.UTF_8);
    context.forward(origin.output(key, decision, null, config.replayRunId()));
  }

  private void index(long expiresAt, ExpiryKey.Kind kind, String key) {
    expiry.put(new ExpiryKey(expiresAt, kind, key), "");
  }

  private void unindex(long expiresAt, ExpiryKey.Kind kind, String key) {
    expiry.delete(new ExpiryKey(expiresAt, kind, key));
  }

  private static String waitKey(String uploadId, long offset) {
    return uploadId + SEP + String.format("%019d", offset);
  }
}
