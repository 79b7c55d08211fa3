package io.shoplens.processor.inference;

import java.util.List;
import java.util.Objects;

/**
 * One request to the engine: an image (encoded bytes, or an already preprocessed pixel tensor), an
 * optional text, generation options and a seed. Validated on construction.
 *
 * <p>The text is either a raw {@code prompt} used as is (e.g. a caption prefix "a photo of"), or a
 * {@code question} wrapped in the bundle's question template, after any earlier {@code history}
 * turns. With neither the request is a caption.
 *
 * <p>Arrays are not copied; callers must not modify them after submitting.
 *
 * @param requestId caller's id, echoed in the result and in error messages
 * @param image encoded image bytes (JPEG, PNG, ...), or null when {@code pixelValues} is given
 * @param pixelValues preprocessed CHW float pixels of the bundle's image size, or null
 * @param prompt raw prompt text, or null
 * @param question question text, or null
 * @param history earlier turns, oldest first (only with a question)
 * @param options generation options
 * @param seed seeds sampling, so that the same request always gives the same output
 */
public record GenerationRequest(
    String requestId,
    byte[] image,
    float[] pixelValues,
    String prompt,
    String question,
    List<Turn> history,
    DecodingOptions options,
    long seed) {

  public GenerationRequest {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(options, "options");
    if (requestId.isBlank()) {
      throw new IllegalArgumentException("requestId must not be blank");
    }
    if ((image == null) == (pixelValues == null)) {
      throw new IllegalArgumentException(
          "request " + requestId + ": give exactly one of image bytes and pixel values");
    }
    if (image != null && image.length == 0) {
      throw new IllegalArgumentException("request " + requestId + ": image bytes are empty");
    }
    if (pixelValues != null && pixelValues.length == 0) {
      throw new IllegalArgumentException("request " + requestId + ": pixel values are empty");
    }
    if (prompt != null && question != null) {
      throw new IllegalArgumentException(
          "request " + requestId + ": give a prompt or a question, not both");
    }
    history = history == null ? List.of() : List.copyOf(history);
    if (!history.isEmpty() && question == null) {
      throw new IllegalArgumentException(
          "request " + requestId + ": earlier turns need a question to follow them");
    }
  }

  /** A caption request for encoded image bytes. */
  public static GenerationRequest caption(
      String requestId, byte[] image, DecodingOptions options, long seed) {
    return new GenerationRequest(requestId, image, null, null, null, List.of(), options, seed);
  }

  /** A question about encoded image bytes, after earlier turns (may be empty). */
  public static GenerationRequest question(
      String requestId,
      byte[] image,
      String question,
      List<Turn> history,
      DecodingOptions options,
      long seed) {
    return new GenerationRequest(requestId, image, null, null, question, history, options, seed);
  }

  /** Same text and options, for a preprocessed pixel tensor instead of image bytes. */
  public static GenerationRequest ofPixels(
      String requestId,
      float[] pixelValues,
      String prompt,
      String question,
      List<Turn> history,
      DecodingOptions options,
      long seed) {
    return new GenerationRequest(
        requestId, null, pixelValues, prompt, question, history, options, seed);
  }
}
