package io.shoplens.processor.inference;

import java.util.Objects;

/**
 * An earlier question and its answer in a conversation about one image.
 *
 * @param question what was asked
 * @param answer what the model answered
 */
public record Turn(String question, String answer) {
  public Turn {
    Objects.requireNonNull(question, "question");
    Objects.requireNonNull(answer, "answer");
  }
}
