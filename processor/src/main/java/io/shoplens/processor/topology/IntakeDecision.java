package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;

/**
 * What intake decided: inference work or a dead letter for an input record, or, when an upload
 * expires, that its retrieval feature is to be removed everywhere.
 */
sealed interface IntakeDecision {
  /** Work for the inference processor. */
  record Submit(InferenceJob job) implements IntakeDecision {}

  /** A record refused before inference. */
  record Reject(DeadLetter deadLetter) implements IntakeDecision {}

  /**
   * An upload expired (no more questions about it): its feature goes too, as a tombstone on the
   * upload-embeddings topic, which removes it from every instance's global store and, once
   * compacted, from the topic; an external vector store fed by Connect deletes its row. Only where
   * a retrieval model is loaded.
   */
  record ForgetUploadFeatures(String uploadId) implements IntakeDecision {}
}
