package io.shoplens.processor.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.app.demo.Demo;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code shoplens demo} end to end, as a new user runs it (README's first command). */
class DemoCommandTest {

  @Test
  void shouldShowCaptionsAnswersAndTheDeadLetterThenExitZero() {
    ShopLensCliTest.Run r = ShopLensCliTest.run(Map.of(), "demo", "--timeout", "120s");

    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains("RANDOM WEIGHTS")
        .contains("caption  upload demo-shirt")
        .contains("caption  upload demo-sofa")
        .contains("caption  upload demo-lamp")
        .contains("answer   question demo-shirt-q1")
        .contains("answer   question demo-sofa-q1 (upload demo-sofa, conversation demo-chat)")
        .contains("answer   question demo-sofa-q2 (upload demo-sofa, conversation demo-chat)")
        .contains("dead letter  shoplens.image-uploads.v1")
        .contains("(key demo-corrupt)")
        .contains("done: 3 captions, 3 answers, 1 dead letter(s).")
        .contains(Demo.EXPORT_COMMAND);
  }
}
