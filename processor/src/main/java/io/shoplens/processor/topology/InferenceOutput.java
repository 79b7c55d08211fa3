package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.UploadEmbedding;

/** What the inference processor forwards: one case per output topic. */
sealed interface InferenceOutput {
  /** An upload's caption and attributes, for the captions topic. */
  record Captioned(ImageCaptioned event) implements InferenceOutput {}

  /** An answer, for the answers topic. */
  record Answered(QuestionAnswered event) implements InferenceOutput {}

  /** Recommendations for an upload, forwarded right after its caption. */
  record Recommended(RecommendationsIssued event) implements InferenceOutput {}

  /** An upload's pooled retrieval image feature, for the upload-embeddings topic. */
  record UploadEmbedded(UploadEmbedding event) implements InferenceOutput {}

  /** A job that failed for good, for the dead-letter topic. */
  record DeadLettered(DeadLetter letter) implements InferenceOutput {}
}
