package io.shoplens.processor.inference;

/**
 * Inference failed. When the failure comes from ONNX Runtime the message names the model version,
 * the graph and the shapes of the inputs it was given, so a log line is enough to reproduce it.
 */
public class InferenceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what failed, with model, graph and inputs where known
   */
  public InferenceException(String message) {
    super(message);
  }

  /**
   * @param message what failed, with model, graph and inputs where known
   * @param cause the underlying failure
   */
  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
