package io.shoplens.processor.topology;

import io.shoplens.events.ProcessingStage;
import java.util.Objects;

/**
 * An input record ShopLens will not process, with the stage that refused it. Its class name and
 * message end up in the record's {@code DeadLetter}; it is never thrown out of a processor.
 */
public class RejectedRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient ProcessingStage stage;

  /**
   * @param stage the stage that refused the record
   * @param message what was expected and what came instead
   */
  public RejectedRecordException(ProcessingStage stage, String message) {
    super(message);
    this.stage = Objects.requireNonNull(stage, "stage");
  }

  public ProcessingStage stage() {
    return stage;
  }

  /** A record that breaks the event contract or a configured limit (stage VALIDATE). */
  public static final class InvalidRecordException extends RejectedRecordException {
    private static final long serialVersionUID = 1L;

    public InvalidRecordException(String message) {
      super(ProcessingStage.VALIDATE, message);
    }
  }

  /** A question whose upload never arrived, or has expired (stage JOIN). */
  public static final class UploadNotFoundException extends RejectedRecordException {
    private static final long serialVersionUID = 1L;

    public UploadNotFoundException(String message) {
      super(ProcessingStage.JOIN, message);
    }
  }
}
