package io.shoplens.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.app.cli.ShopLensCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        .contains("catalog ready: " + Demo.shelf(true).size() + " products embedded")
        .contains(
            "answer   question demo-sneakers-q2 (upload demo-sneakers, conversation demo-chat)")
        .contains("dead letter  shoplens.image-uploads.v1")
        .contains(
            "done: 3 captions, 3 answers, 3 recommendation events, 2 searches, 1 dead letter(s).");
  }

  @Test
  void shouldShowCaptionsAnswersRecommendationsSearchesAndTheDeadLetterThenExitZero() {
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
        .contains("catalog ready: " + Demo.shelf(true).size() + " products embedded")
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
        .contains(
            "done: 3 captions, 3 answers, 3 recommendation events, 2 searches, 1 dead letter(s).")
        .contains(Demo.EXPORT_COMMAND);
    // And the retrieval model's text searches and related products
    assertSearchesAndRelatedProducts(r.out());
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

  @Test
  void shouldCarryTheTrainedRetrievalModelInTheJar() {
    // Given the demo jar's resources (copied from models/fashion-blip2-retrieval)
    // Then the retrieval model is there, so that the demo searches and shows related products
    assertThat(DemoResources.hasRetrievalModel()).isTrue();
  }

  /**
   * The retrieval model's part of a demo run: each text search lists five in-stock products and the
   * first is what was asked for (products it never saw: the trained model's text->product ranking,
   * README "Search"); each answer shows related products of the photo's kind, each with its colour
   * and stock.
   */
  private static void assertSearchesAndRelatedProducts(String out) {
    Map<String, DemoCatalog.Item> shelf = new HashMap<>();
    Demo.shelf(true).forEach(i -> shelf.put(i.productId(), i));
    for (Demo.Search search : Demo.SEARCHES) {
      String event = block(out, "search   " + search.id() + " \"" + search.text() + "\" (TEXT)");
      List<String> ids = productIds(event);
      assertThat(ids).as(event).hasSize(5);
      assertThat(ids).allSatisfy(id -> assertThat(shelf.get(id).stock()).isPositive());
      assertThat(search.fits(shelf.get(ids.get(0)))).as(event).isTrue();
      assertThat(event).contains("catalog says: ");
    }
    for (String kind : List.of("dress", "sneakers")) {
      String answer = block(out, "answer   question demo-" + kind + "-q1");
      assertThat(answer).contains("related products:");
      List<String> related = productIds(answer);
      assertThat(related).as(answer).isNotEmpty();
      assertThat(related)
          .as(answer)
          .allSatisfy(id -> assertThat(shelf.get(id).kind()).isEqualTo(kind));
      assertThat(answer).containsPattern("\\(colour [a-z]+, (in stock|out of stock)\\)");
    }
  }

  /** One output's lines: the line starting with {@code start} and its indented lines. */
  private static String block(String out, String start) {
    int from = out.indexOf("] " + start);
    assertThat(from).as("no " + start + " in\n" + out).isNotNegative();
    List<String> lines = out.substring(from).lines().toList();
    StringBuilder event = new StringBuilder(lines.get(0)).append('\n');
    for (int i = 1; i < lines.size() && lines.get(i).startsWith(" "); i++) {
      event.append(lines.get(i)).append('\n');
    }
    return event.toString();
  }

  /** The product ids of the ranked lines (" 1. p01266 ...") of an output, in order. */
  private static List<String> productIds(String event) {
    Matcher m = Pattern.compile("^ +\\d+\\. (p\\d{5}) ", Pattern.MULTILINE).matcher(event);
    List<String> ids = new ArrayList<>();
    while (m.find()) {
      ids.add(m.group(1));
    }
    return ids;
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
