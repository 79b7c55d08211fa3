package io.shoplens.processor.app.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** The one wording of a setting that names a path where the wrong thing (or nothing) is. */
final class PathProblems {
  private PathProblems() {}

  /**
   * "{@code setting}: expected {@code expected}, found a file|a directory|nothing at /abs/path".
   */
  static String expectedAt(String setting, String expected, Path path) {
    String found =
        !Files.exists(path) ? "nothing" : Files.isDirectory(path) ? "a directory" : "a file";
    return setting + ": expected " + expected + ", found " + found + " at " + path.toAbsolutePath();
  }
}
