package io.shoplens.processor.app.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * One line of {@code qa.jsonl}: an image, a question (null for a caption) and its true answer.
 *
 * @param image the image's path relative to the dataset directory, e.g. {@code images/p0001.png}
 * @param productId the product the row is about; rows of one product share a split
 * @param type the row type: an attribute type, {@code rule} or {@code caption}
 * @param question the question, or null for a caption
 * @param answer the true answer (or caption)
 * @param split {@code train}, {@code val} or {@code test}
 * @param source the curated file a row came from, or null for rows built from the catalog
 */
public record DatasetRow(
    String image,
    String productId,
    String type,
    String question,
    String answer,
    String split,
    String source) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public DatasetRow {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(productId, "productId");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(answer, "answer");
    Objects.requireNonNull(split, "split");
  }

  /** The row as one line of JSON (no line break). */
  public String toJson() {
    ObjectNode node = JSON.createObjectNode();
    node.put("image", image);
    node.put("productId", productId);
    node.put("type", type);
    if (question == null) {
      node.putNull("question");
    } else {
      node.put("question", question);
    }
    node.put("answer", answer);
    node.put("split", split);
    if (source != null) {
      node.put("source", source);
    }
    return node.toString();
  }

  /**
   * Parses one line of {@code qa.jsonl}.
   *
   * @param defaultSplit the split when the line has none (curated rows get theirs from the product)
   * @throws IllegalArgumentException what is missing or malformed, in words
   */
  public static DatasetRow parse(String line, String defaultSplit) {
    JsonNode node = JsonLines.parse(line);
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException("expected a JSON object, got " + line.strip());
    }
    String image = text(node, "image", true);
    String productId = text(node, "productId", true);
    String type = text(node, "type", true);
    String answer = text(node, "answer", true);
    JsonNode q = node.get("question");
    if (q != null && !q.isNull() && !q.isTextual()) {
      throw new IllegalArgumentException("question: expected a string or null, got " + q);
    }
    String question = q == null || q.isNull() ? null : q.asText();
    String split = text(node, "split", false);
    return new DatasetRow(
        image,
        productId,
        type,
        question,
        answer,
        split == null ? defaultSplit : split,
        text(node, "source", false));
  }

  private static String text(JsonNode node, String field, boolean required) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException(field + ": required, missing");
      }
      return null;
    }
    if (!v.isTextual() || v.asText().isBlank()) {
      throw new IllegalArgumentException(field + ": expected a non-empty string, got " + v);
    }
    return v.asText().strip();
  }
}
