package io.shoplens.processor.topology;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The values kept in ShopLens' state stores, and their serde (JSON: internal, readable in the
 * changelog topics, tolerant of added fields). Source records are kept as their raw bytes in an
 * {@link Origin}: re-read with the topic's serde when needed.
 */
final class StoredState {
  private StoredState() {}

  /** What a {@link Job} asks the engine for. */
  enum Kind {
    /** A caption plus one answer per attribute prompt, for an upload. */
    CAPTION,
    /** An answer to a question. */
    ANSWER
  }

  /**
   * A unit of inference work, recorded in the in-flight store from the moment it is accepted until
   * its result (or dead letter) is forwarded.
   *
   * @param id unique per input record (kind, topic, partition, zero-padded offset), so that store
   *     order is arrival order within a partition
   * @param kind caption or answer
   * @param uploadId the upload (record key)
   * @param conversationKey uploadId and conversationId for a conversation turn, else null
   * @param origin the input record
   * @param attempts failed tries so far that count towards {@code maxAttempts}
   */
  record Job(
      String id, Kind kind, String uploadId, String conversationKey, Origin origin, int attempts) {

    static Job of(Kind kind, String uploadId, String conversationKey, Origin origin) {
      String id =
          String.format(
              "%s|%s|%d|%019d",
              kind == Kind.CAPTION ? "C" : "A",
              origin.topic(),
              origin.partition(),
              origin.offset());
      return new Job(id, kind, uploadId, conversationKey, origin, 0);
    }

    Job withAttempts(int n) {
      return new Job(id, kind, uploadId, conversationKey, origin, n);
    }
  }

  /**
   * An upload kept for the questions about it.
   *
   * @param origin the ImageUploaded record
   * @param storedAt wall-clock time it was stored
   */
  record StoredUpload(Origin origin, long storedAt) {}

  /**
   * A question whose upload has not arrived yet.
   *
   * @param uploadId the upload it waits for
   * @param conversationKey as in {@link Job}
   * @param origin the QuestionAsked record
   * @param arrivedAt wall-clock time it started waiting
   */
  record WaitingQuestion(String uploadId, String conversationKey, Origin origin, long arrivedAt) {}

  /**
   * One earlier question and answer.
   *
   * @param tokens estimated tokens of both
   */
  record StoredTurn(String question, String answer, int tokens) {}

  /**
   * The earlier turns of a conversation, oldest first.
   *
   * @param updatedAt wall-clock time of the last turn
   */
  record Conversation(List<StoredTurn> turns, long updatedAt) {
    Conversation {
      turns = turns == null ? List.of() : List.copyOf(turns);
    }

    /** This conversation plus a turn, trimmed to the newest turns within both bounds. */
    Conversation append(StoredTurn turn, int maxTurns, int maxTokens, long now) {
      List<StoredTurn> kept = new ArrayList<>(turns);
      kept.add(turn);
      int tokens = kept.stream().mapToInt(StoredTurn::tokens).sum();
      while (!kept.isEmpty() && (kept.size() > maxTurns || tokens > maxTokens)) {
        tokens -= kept.remove(0).tokens();
      }
      return new Conversation(kept, now);
    }
  }

  /**
   * A rough token count for bounding prompt history without the model's tokenizer: BPE tokenizers
   * give about one token per word, or per four characters of text, whichever is more.
   */
  static int estimateTokens(String text) {
    String trimmed = text.strip();
    if (trimmed.isEmpty()) {
      return 0;
    }
    int words = trimmed.split("\\s+").length;
    return Math.max(words, (trimmed.length() + 3) / 4);
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** JSON serde for a state value type. */
  static <T> Serde<T> serde(Class<T> type) {
    Serializer<T> serializer =
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.writeValueAsBytes(data);
          } catch (IOException e) {
            throw new SerializationException("cannot write " + type.getSimpleName(), e);
          }
        };
    Deserializer<T> deserializer =
        (topic, data) -> {
          if (data == null) {
            return null;
          }
          try {
            return JSON.readValue(data, type);
          } catch (IOException e) {
            throw new SerializationException(
                "cannot read " + type.getSimpleName() + " from " + data.length + " bytes", e);
          }
        };
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
