package io.shoplens.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StdoutLineFilterTest {

  @Test
  void shouldDivertOnlyLinesWithTheGivenPrefixesAndRestoreStdout() {
    // Given a captured stdout
    PrintStream stdout = System.out;
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    PrintStream captured = new PrintStream(console, true, StandardCharsets.UTF_8);
    List<String> diverted = new ArrayList<>();
    System.setOut(captured);
    try {
      // When lines are printed while the filter is open, one of them in pieces
      try (StdoutLineFilter filter =
          new StdoutLineFilter(List.of("Formatting ", "Bootstrap metadata: "), diverted::add)) {
        System.out.println("Formatting metadata directory /tmp/x with metadata.version 4.3");
        System.out.print("Bootstrap metadata: ");
        System.out.println("BootstrapMetadata(records=6)");
        System.out.println("a line someone else prints");
        System.out.print("an unfinished line");
      }
      System.out.println(" after");
    } finally {
      System.setOut(stdout);
    }

    // Then the known lines went to the callback, everything else reached the console, and the
    // original stdout is back
    assertThat(diverted)
        .containsExactly(
            "Formatting metadata directory /tmp/x with metadata.version 4.3",
            "Bootstrap metadata: BootstrapMetadata(records=6)");
    assertThat(console.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "a line someone else prints"
                + System.lineSeparator()
                + "an unfinished line after"
                + System.lineSeparator());
    assertThat(System.out).isSameAs(stdout);
  }
}
