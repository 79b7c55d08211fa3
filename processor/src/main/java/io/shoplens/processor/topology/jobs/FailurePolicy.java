package io.shoplens.processor.topology.jobs;

import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.inference.RequestRejectedException;
import io.shoplens.processor.inference.image.ImageDecodeException;
import io.shoplens.processor.topology.RejectedRecordException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What a failed job means, decided in one place for every processor that runs jobs: the stage to
 * blame, whether trying again can help, and whether the try counts towards {@code maxAttempts}.
 */
public final class FailurePolicy {
  private FailurePolicy() {}

  /**
   * How one failure is handled.
   *
   * @param stage the stage named in the dead letter
   * @param retriable whether a later try may succeed
   * @param counts whether this try counts towards {@code maxAttempts}
   */
  public record Failure(ProcessingStage stage, boolean retriable, boolean counts) {}

  /**
   * Classifies {@code error} (unwrapped from {@link CompletionException} and {@link
   * ExecutionException} first).
   *
   * <ul>
   *   <li>{@link RejectedRecordException}: the record itself is refused, at its stage; permanent.
   *   <li>{@link ImageRefusedException}: RESOLVE_IMAGE; retriable only when the refusal says so (a
   *       timeout, a server error), not for a forbidden address or a wrong checksum.
   *   <li>{@link ImageDecodeException}, {@link IllegalArgumentException}: a bad image or prompt
   *       fails the same way every time; PREPROCESS, permanent.
   *   <li>{@link UnsupportedOperationException}: the engine cannot do this kind of request at all
   *       (an engine without image embeddings); INFERENCE, permanent, since every retry would get
   *       the same answer and only delay the dead letter by {@code maxAttempts} backoffs.
   *   <li>{@link RequestRejectedException}: the engine was full or closing and never ran it; not
   *       the record's fault, so retriable and not counted.
   *   <li>anything else (a model error): INFERENCE, retriable, counted.
   * </ul>
   */
  public static Failure classify(Throwable error) {
    Throwable e = unwrap(error);
    if (e instanceof RejectedRecordException r) {
      return new Failure(r.stage(), false, true);
    }
    if (e instanceof ImageRefusedException r) {
      return new Failure(ProcessingStage.RESOLVE_IMAGE, r.retriable(), true);
    }
    if (e instanceof ImageDecodeException || e instanceof IllegalArgumentException) {
      return new Failure(ProcessingStage.PREPROCESS, false, true);
    }
    if (e instanceof UnsupportedOperationException) {
      return new Failure(ProcessingStage.INFERENCE, false, true);
    }
    if (e instanceof RequestRejectedException) {
      return new Failure(ProcessingStage.INFERENCE, true, false);
    }
    return new Failure(ProcessingStage.INFERENCE, true, true);
  }

  /** The cause a future's wrapping hides. */
  public static Throwable unwrap(Throwable e) {
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
