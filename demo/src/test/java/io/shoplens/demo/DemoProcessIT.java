package io.shoplens.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's "Try it with your own photo", as users run it: {@code ./shoplens demo
 * --keep-running} (the README's first command, read from it) in a separate process on the demo jar
 * that {@code package} built, on free ports. Once it prints its addresses, the demo page is driven
 * in Debian's headless Chromium (playwright-core, src/test/browser/demo-page.mjs): a committed
 * photo is uploaded, two questions are asked, and the caption, both answers and the recommendation
 * cards must show. The screenshot is kept at target/demo-page.png and the demo's output at
 * target/demo-process.log. The process is stopped (SIGTERM, then killed) at the end.
 *
 * <p>The browser test is skipped, saying why, only where Chromium or the script's npm packages are
 * missing: scripts/setup-browser (run by scripts/test-all, hence by .ci/run) installs both.
 */
class DemoProcessIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path JAR =
      Path.of(System.getProperty("shoplens.demo.jar", "target/shoplens-demo.jar"));
  private static final Path LOG = Path.of("target/demo-process.log").toAbsolutePath();
  private static final Path CHROMIUM =
      Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
  private static final Path BROWSER_SCRIPTS = Path.of("src/test/browser").toAbsolutePath();
  private static final Path PHOTO = ROOT.resolve("processor/src/test/resources/images/photo.jpg");
  private static final Path SCREENSHOT = Path.of("target/demo-page.png").toAbsolutePath();

  /** The last line the demo prints once everything it serves is up. */
  private static final String READY_LINE = "recommendations come out on";

  private static Process demo;
  private static String output;

  @BeforeAll
  static void startTheDemoAsUsersDo() throws IOException {
    assertThat(JAR)
        .as("the demo jar, built by `package` before the integration tests")
        .isRegularFile();
    Files.createDirectories(LOG.getParent());
    List<String> readme = readmeCommands();
    assertThat(readme).as("the README's own-photo commands").hasSize(2);
    assertThat(readme.get(0)).isEqualTo("./shoplens demo --keep-running");
    // The README's first command, on free ports instead of 8085 and 8081, so that a busy machine
    // (or a demo someone left running) cannot fail the build. exec: the process is the JVM.
    demo =
        new ProcessBuilder(
                "bash", "-c", "exec " + readme.get(0) + " --registry-port=0 --gateway-port=0")
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(LOG.toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(240))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> log().contains(READY_LINE) || !demo.isAlive());
    output = log();
    assertThat(demo.isAlive()).as("the demo is still running; it wrote:%n%s", output).isTrue();
  }

  @AfterAll
  static void stopTheDemo() throws InterruptedException {
    if (demo == null) {
      return;
    }
    // SIGTERM, as Ctrl-C: the demo's shutdown hook closes ShopLens and the broker.
    demo.destroy();
    if (!demo.waitFor(60, TimeUnit.SECONDS)) {
      demo.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void givenTheRunningDemoWhenAShopperUsesThePageInChromiumThenCaptionAnswersAndCardsShow()
      throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(CHROMIUM),
        "no Chromium at " + CHROMIUM + ": run scripts/setup-browser (scripts/test-all does)");
    Assumptions.assumeTrue(
        Files.isDirectory(BROWSER_SCRIPTS.resolve("node_modules/playwright-core")),
        "no playwright-core in " + BROWSER_SCRIPTS + "/node_modules: run scripts/setup-browser");
    String page = find(output, "Demo page: +(http://localhost:\\d+)/");

    // Given the page the demo prints, open in Chromium
    Files.deleteIfExists(SCREENSHOT);
    Path browserLog = Path.of("target/demo-page-browser.log").toAbsolutePath();
    // When a shopper uploads a committed photo and asks two questions
    Process browser =
        new ProcessBuilder("node", "demo-page.mjs", page, PHOTO.toString(), SCREENSHOT.toString())
            .directory(BROWSER_SCRIPTS.toFile())
            .redirectErrorStream(true)
            .redirectOutput(browserLog.toFile())
            .start();
    boolean finished = browser.waitFor(200, TimeUnit.SECONDS);
    if (!finished) {
      browser.destroyForcibly().waitFor();
    }
    String said = Files.readString(browserLog);

    // Then the caption, both answers and a card for every product in stock show
    assertThat(finished).as("the browser script finished in time; it wrote: %s", said).isTrue();
    assertThat(browser.exitValue()).as("the browser script's output: %s", said).isZero();
    JsonNode shown = JSON.readTree(lastLine(said));
    assertThat(shown.path("caption").asText()).isNotBlank();
    assertThat(shown.path("questions"))
        .extracting(JsonNode::asText)
        .containsExactly("What is it?", "What colour is it?");
    assertThat(shown.path("answers"))
        .hasSize(2)
        .allSatisfy(a -> assertThat(a.asText()).isNotBlank());
    assertThat(shown.path("liveRegion").asText()).isEqualTo("polite");
    // (the top 10 of the in-stock products the demo published: with the retrieval model, more
    // than ten)
    List<String> inStock =
        Demo.shelf(DemoResources.hasRetrievalModel()).stream()
            .filter(item -> item.stock() > 0)
            .map(item -> item.title() + " / " + item.stock() + " in stock")
            .toList();
    assertThat(shown.path("cards"))
        .extracting(c -> c.path("title").asText() + " / " + c.path("stock").asText())
        .hasSize(Math.min(10, inStock.size()))
        .allSatisfy(card -> assertThat(inStock).contains(card));
    assertThat(SCREENSHOT).isNotEmptyFile();
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void shouldPrintTheReadmesSecondCommandAndAnswerItForACommittedPhoto() throws Exception {
    // Given the README's second command, and the one the running demo prints
    String readme = readmeCommands().get(1);
    String readmeRegistry = "http://127.0.0.1:" + Demo.KeptPorts.defaults().registry();
    String bootstrap = find(output, "Kafka bootstrap: +(\\S+)$");
    String registry = find(output, "Schema Registry: +(http://127\\.0\\.0\\.1:\\d+)");
    String printed = find(output, "Your own photo: +(.+)$").strip();
    assertThat(readme).contains("--bootstrap <printed address> --registry " + readmeRegistry);
    assertThat(printed)
        .as("the demo prints the README's command with its own addresses")
        .isEqualTo(
            readme.replace("<printed address>", bootstrap).replace(readmeRegistry, registry));

    // When it runs from the repository root, a committed photo standing in for my-photo.jpg
    Path log = Path.of("target/demo-produce.log").toAbsolutePath();
    Process produce =
        new ProcessBuilder(
                "bash", "-c", printed.replace("my-photo.jpg", ROOT.relativize(PHOTO).toString()))
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean finished = produce.waitFor(200, TimeUnit.SECONDS);
    if (!finished) {
      produce.destroyForcibly().waitFor();
    }
    String said = Files.readString(log);

    // Then it exits 0 after printing the caption and both answers
    assertThat(finished).as("produce finished in time; it wrote:%n%s", said).isTrue();
    assertThat(produce.exitValue()).as("produce's output:%n%s", said).isZero();
    assertThat(said.lines().filter(l -> l.startsWith("caption ")).count()).isEqualTo(1);
    assertThat(said.lines().filter(l -> l.startsWith("answer ")).count()).isEqualTo(2);
  }

  // --- helpers ------------------------------------------------------------------------------

  /**
   * The commands of the README's "Try it with your own photo" block: comments dropped, continuation
   * lines joined, runs of blanks as one space.
   */
  private static List<String> readmeCommands() throws IOException {
    String readme = Files.readString(ROOT.resolve("README.md"));
    int section = readme.indexOf("### Try it with your own photo");
    assertThat(section).as("the README's own-photo section").isNotNegative();
    int start = readme.indexOf("```bash\n", section) + "```bash\n".length();
    String block = readme.substring(start, readme.indexOf("```", start));
    return block
        .replace("\\\n", " ")
        .lines()
        .map(String::strip)
        .filter(l -> !l.isEmpty() && !l.startsWith("#"))
        .map(l -> l.replaceAll("\\s+", " "))
        .toList();
  }

  private static String log() {
    try {
      return Files.exists(LOG) ? Files.readString(LOG) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
    assertThat(m.find()).as("%s in the demo's output:%n%s", regex, text).isTrue();
    return m.group(1);
  }

  private static String lastLine(String output) {
    List<String> lines = new ArrayList<>(output.lines().filter(l -> !l.isBlank()).toList());
    return lines.isEmpty() ? "{}" : lines.get(lines.size() - 1);
  }
}
