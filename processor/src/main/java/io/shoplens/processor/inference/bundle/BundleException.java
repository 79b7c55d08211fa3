package io.shoplens.processor.inference.bundle;

import java.nio.file.Path;

/**
 * A model bundle is missing, corrupt, or disagrees with itself. The message always names the file
 * and says what was expected and what was found, so that an operator can fix the bundle without
 * reading code.
 */
public final class BundleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /**
   * @param file the offending file (or the bundle directory)
   * @param message what was expected and what was found
   */
  public BundleException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  /**
   * @param file the offending file (or the bundle directory)
   * @param message what was expected and what was found
   * @param cause the underlying failure
   */
  public BundleException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The file the problem is in. */
  public Path file() {
    return file;
  }
}
