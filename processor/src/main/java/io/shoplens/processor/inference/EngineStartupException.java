package io.shoplens.processor.inference;

/**
 * The engine cannot start as configured, for example CUDA was asked for but the CUDA execution
 * provider cannot be loaded. The engine never silently falls back to another provider.
 */
public final class EngineStartupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what was asked for, what was found, and how to fix it
   * @param cause the underlying failure, if any
   */
  public EngineStartupException(String message, Throwable cause) {
    super(message, cause);
  }
}
