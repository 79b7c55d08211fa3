package io.shoplens.processor.inference;

/**
 * The engine did not accept a request: its queue stayed full for longer than the configured offer
 * timeout (or at once, under {@link EngineConfig.Backpressure#REJECT}), or the engine is closed.
 * The request was never run; the caller may retry it later.
 */
public final class RequestRejectedException extends InferenceException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message why the request was refused
   */
  public RequestRejectedException(String message) {
    super(message);
  }
}
