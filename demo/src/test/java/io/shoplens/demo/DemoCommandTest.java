package io.shoplens.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.app.cli.ShopLensCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code shoplens demo} end to end, as a new user runs it (README's first command). */
class DemoCommandTest {

  record Run(int code, String out, String err) {}

  /** Runs the demo jar's command line, as {@link DemoMain} does, on the given arguments. */
  static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        ShopLensCli.execute(
            args, env, new PrintWriter(out), new PrintWriter(err), List.of(new DemoCommand()));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void shouldOfferEveryProductionCommandAndTheRealDemo() {
    // Given the demo jar's command line, When a user asks for help
    Run all = run(Map.of(), "--help");
    Run demo = run(Map.of(), "demo", "--help");

    // Then every command of the production jar is there, and demo is the one with a broker
    assertThat(all.code()).isZero();
    assertThat(all.out()).contains("run", "demo", "produce", "topics", "model", "replay");
    assertThat(demo.code()).isZero();
    assertThat(demo.out()).contains("--keep-running").doesNotContain("Not in this jar");
  }

  @Test
  void shouldRunTheWholeDemoOnAT5BundleGivenWithModel() {
    // Given the tiny BLIP-2 Flan-T5 bundle (random weights), When the demo runs on it
    Run r =
        run(
            Map.of(),
            "demo",
            "--timeout",
            "120s",
            "--model",
            "../processor/src/test/resources/models/tiny-blip2-t5");

    // Then captions, the conversation's answers, recommendations and the dead letter all arrive
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains("tiny-blip2-t5 (--model)")
        .contains("ShopLens started with model tiny-blip2-t5-s1234-ef762aea")
        .contains("catalog ready: 10 products embedded")
        .contains(
            "answer   question demo-sneakers-q2 (upload demo-sneakers, conversation demo-chat)")
        .contains("dead letter  shoplens.image-uploads.v1")
        .contains("done: 3 captions, 3 answers, 3 recommendation events, 1 dead letter(s).");
  }

  @Test
  void shouldShowCaptionsAnswersRecommendationsAndTheDeadLetterThenExitZero() {
    // Given a fresh machine and the demo's held-out products, When a user runs the demo
    // (watching the process's own stdout too)
    DemoCatalog products = DemoCatalog.load();
    DemoCatalog.Item outOfStock = products.catalog().get(products.catalog().size() - 1);
    PrintStream stdout = System.out;
    ByteArrayOutputStream processOut = new ByteArrayOutputStream();
    Run r;
    System.setOut(new PrintStream(processOut, true, StandardCharsets.UTF_8));
    try {
      r = run(Map.of(), "demo", "--timeout", "120s");
    } finally {
      System.setOut(stdout);
    }

    // Then it exits 0 after printing every output as it arrived
    assertThat(r.code()).as(r.out() + r.err()).isZero();
    assertThat(r.out())
        .contains("bundled demo model")
        .contains("published catalog product " + outOfStock.productId())
        .contains("OUT OF STOCK")
        .contains("catalog ready: 10 products embedded")
        .contains("caption  upload demo-sneakers")
        .contains("caption  upload demo-dress")
        .contains("caption  upload demo-handbag")
        .contains("answer   question demo-dress-q1 (upload demo-dress)")
        .contains(
            "answer   question demo-sneakers-q1 (upload demo-sneakers, conversation demo-chat)")
        .contains(
            "answer   question demo-sneakers-q2 (upload demo-sneakers, conversation demo-chat)")
        .contains("dead letter  shoplens.image-uploads.v1")
        .contains("(key demo-corrupt)")
        .contains("done: 3 captions, 3 answers, 3 recommendation events, 1 dead letter(s).")
        .contains(Demo.EXPORT_COMMAND);
    // Kafka's test kit prints these to System.out while it formats the broker's storage.
    assertThat(processOut.toString(StandardCharsets.UTF_8))
        .doesNotContain("Formatting metadata directory")
        .doesNotContain("Bootstrap metadata");

    // And the trained model answers the colour question right about sneakers it never saw
    DemoCatalog.Item sneakers = products.uploads().get(0);
    assertThat(quoted(r.out(), "answer   question demo-sneakers-q1"))
        .isEqualTo(sneakers.attributes().get("colour"));
    // And each caption names its photo's kind, printed beside what the catalog says
    for (DemoCatalog.Item photo : products.uploads()) {
      assertThat(quoted(r.out(), "caption  upload demo-" + photo.kind()))
          .as("caption of %s", photo.truth())
          .contains(photo.kind());
      assertThat(r.out()).contains("catalog says: " + photo.truth());
    }

    // And each upload's recommendations list the in-stock catalog, never the out-of-stock product
    for (DemoCatalog.Item photo : products.uploads()) {
      String event = recommendation(r.out(), "demo-" + photo.kind());
      assertThat(event)
          .as(photo.kind() + " in\n" + r.out())
          .containsPattern("garment [A-Z_]+, (try-on eligible|not for try-on)")
          .contains("9. ")
          .doesNotContain(outOfStock.productId());
    }
  }

  /** The first double-quoted text on the line that starts with {@code prefix} (after its time). */
  private static String quoted(String out, String prefix) {
    String line =
        out.lines()
            .filter(l -> l.contains("] " + prefix))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no line " + prefix + " in\n" + out));
    int from = line.indexOf('"') + 1;
    return line.substring(from, line.indexOf('"', from));
  }

  /** The lines of one upload's recommendation event. */
  private static String recommendation(String out, String uploadId) {
    String start = "recommend upload " + uploadId + ":";
    int from = out.indexOf(start);
    assertThat(from).as("no recommendations for " + uploadId + " in\n" + out).isNotNegative();
    StringBuilder event = new StringBuilder();
    List<String> lines = out.substring(from).lines().toList();
    event.append(lines.get(0)).append('\n');
    // The ranked products follow on indented lines; the next event starts with a timestamp.
    for (int i = 1; i < lines.size() && lines.get(i).startsWith(" "); i++) {
      event.append(lines.get(i)).append('\n');
    }
    return event.toString();
  }
}
