package io.shoplens.processor.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

/** {@code shoplens demo} on the production jar, which has no Kafka broker to run it on. */
class DemoUnavailableCommandTest {

  /** Stands in for the demo module's command. */
  @Command(name = "demo")
  static final class AddedDemo implements Callable<Integer> {
    @Override
    public Integer call() {
      return 42;
    }
  }

  @Test
  void shouldExplainWhereTheDemoIsAndExitTwoWhenTheDemoIsNotInTheJar() {
    // Given the production command line, When a user runs the README's first command on it
    ShopLensCliTest.Run r = ShopLensCliTest.run(Map.of(), "demo", "--timeout", "120s");

    // Then it exits 2 (nothing ran) and says where the demo is
    assertThat(r.code()).isEqualTo(ShopLensCli.USAGE);
    assertThat(r.err())
        .contains("shoplens demo: not in this jar")
        .contains("./shoplens demo")
        .contains("demo/target/shoplens-demo.jar");
  }

  @Test
  void shouldRunTheAddedCommandInsteadOfTheNoteWhenTheDemoJarAddsTheDemo() {
    // Given a command named demo added to the built-in ones, as the demo jar's main adds its own
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    // When the user runs demo
    int code =
        ShopLensCli.execute(
            new String[] {"demo"},
            Map.of(),
            new PrintWriter(out),
            new PrintWriter(err),
            List.of(new AddedDemo()));

    // Then the added command ran, not the note
    assertThat(code).isEqualTo(42);
    assertThat(err.toString()).doesNotContain("not in this jar");
  }
}
