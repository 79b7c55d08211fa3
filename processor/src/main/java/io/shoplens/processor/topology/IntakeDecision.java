package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;

/** What intake decided for an input record: inference work, or a dead letter. */
sealed interface IntakeDecision {
  /** Work for the inference processor. */
  record Submit(InferenceJob job) implements IntakeDecision {}

  /** A record refused before inference. */
  record Reject(DeadLetter deadLetter) implements IntakeDecision {}
}
