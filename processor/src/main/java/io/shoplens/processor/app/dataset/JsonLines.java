package io.shoplens.processor.app.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A JSON-lines file read line by line, blank lines skipped, each line numbered from 1 as an editor
 * shows it; and the one way a line becomes a JSON node. The dataset builder, the products file and
 * the evaluation all read {@code .jsonl} files this way, so their line numbers and "not JSON"
 * messages agree.
 */
public final class JsonLines implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final BufferedReader in;
  private int number;

  /**
   * A non-blank line.
   *
   * @param file the file it is in
   * @param number its line number, from 1
   * @param text the line
   */
  public record Line(Path file, int number, String text) {
    /** {@code file-name:number}, for messages. */
    public String where() {
      return file.getFileName() + ":" + number;
    }
  }

  private JsonLines(Path file, BufferedReader in) {
    this.file = file;
    this.in = in;
  }

  /** Opens a UTF-8 file. */
  public static JsonLines open(Path file) throws IOException {
    return new JsonLines(file, Files.newBufferedReader(file, StandardCharsets.UTF_8));
  }

  /** The next non-blank line, or null at the end of the file. */
  public Line next() throws IOException {
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      number++;
      if (!line.isBlank()) {
        return new Line(file, number, line);
      }
    }
    return null;
  }

  /**
   * Parses one line.
   *
   * @throws IllegalArgumentException {@code "not JSON: "} and the parser's first message line
   */
  public static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "not JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
