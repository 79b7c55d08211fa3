package io.shoplens.processor.topology;

import java.util.ArrayList;
import java.util.List;

/**
 * The values kept in ShopLens' state stores (written with {@link JsonStoreSerde}). Source records
 * are kept as their raw bytes in an {@link Origin}: re-read with the topic's serde when needed.
 */
final class StoredState {
  private StoredState() {}

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
   * @param conversationKey as in {@link InferenceJob}
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
}
