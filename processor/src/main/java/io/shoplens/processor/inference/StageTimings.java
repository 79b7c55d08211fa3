package io.shoplens.processor.inference;

import java.time.Duration;

/**
 * Wall time a request spent in each stage. Vision, prefill and decode are shared by the batch, so
 * each request of a batch reports the batch's time for those stages; decode ends when the request's
 * own sequences finished.
 *
 * @param preprocess image decoding, resize and normalisation, plus tokenization
 * @param vision the vision graph (zero on a vision cache hit)
 * @param prefill embedding and the first decoder pass over the prompt
 * @param decode the decoder steps after prefill
 */
public record StageTimings(
    Duration preprocess, Duration vision, Duration prefill, Duration decode) {

  /** Sum of all stages. */
  public Duration total() {
    return preprocess.plus(vision).plus(prefill).plus(decode);
  }
}
