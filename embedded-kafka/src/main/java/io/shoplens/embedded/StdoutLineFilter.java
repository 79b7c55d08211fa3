package io.shoplens.embedded;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.util.List;
import java.util.function.Consumer;

/**
 * While open, replaces {@link System#out} with a stream that diverts whole lines starting with one
 * of the given prefixes to {@code diverted} and passes every other byte through to the original
 * stream; {@link #close()} puts the original back.
 *
 * <p>Why: Kafka's test kit formats the broker's storage with a {@code Formatter} that prints {@code
 * Formatting metadata directory ...} and {@code Bootstrap metadata: ...} to {@code System.out}, on
 * the test kit's own executor threads, with no way to pass it another stream; those lines would
 * land in the middle of {@code shoplens demo}'s output. Only lines with the known prefixes are
 * diverted, so whatever else another thread prints meanwhile still reaches the console (a line
 * printed in pieces by two threads at once may be split differently; nothing is lost).
 *
 * <p>{@code System.out} is global: open one at a time, on the thread that starts the cluster.
 */
final class StdoutLineFilter implements AutoCloseable {
  private final PrintStream original;
  private final LineStream lines;

  StdoutLineFilter(List<String> prefixes, Consumer<String> diverted) {
    original = System.out;
    lines = new LineStream(original, prefixes, diverted, Charset.defaultCharset());
    System.setOut(new PrintStream(lines, true, Charset.defaultCharset()));
  }

  @Override
  public void close() {
    System.out.flush();
    System.setOut(original);
    lines.drain();
  }

  private static final class LineStream extends OutputStream {
    private final PrintStream target;
    private final List<String> prefixes;
    private final Consumer<String> diverted;
    private final Charset charset;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineStream(
        PrintStream target, List<String> prefixes, Consumer<String> diverted, Charset charset) {
      this.target = target;
      this.prefixes = List.copyOf(prefixes);
      this.diverted = diverted;
      this.charset = charset;
    }

    @Override
    public synchronized void write(int b) {
      line.write(b);
      if (b == '\n') {
        emit();
      }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      for (int i = off; i < off + len; i++) {
        write(b[i]);
      }
    }

    private void emit() {
      String text = line.toString(charset);
      line.reset();
      for (String prefix : prefixes) {
        if (text.startsWith(prefix)) {
          diverted.accept(text.stripTrailing());
          return;
        }
      }
      target.print(text);
      target.flush();
    }

    /** A last line without its newline goes through as it is. */
    synchronized void drain() {
      if (line.size() > 0) {
        target.print(line.toString(charset));
        target.flush();
        line.reset();
      }
    }
  }
}
