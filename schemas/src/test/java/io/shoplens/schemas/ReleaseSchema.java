package io.shoplens.schemas;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaFormatter;

/**
 * Releases the current version of event schemas: writes each one, self-contained, to {@code
 * src/main/avro-released/<Name>/v<N+1>.avsc}, after checking it is BACKWARD compatible with every
 * earlier release. See schemas/README.md for the command.
 */
public final class ReleaseSchema {

  private ReleaseSchema() {}

  /**
   * Releases the named events (all events when no argument is given).
   *
   * @param args simple event names, for example {@code QuestionAsked}
   * @throws IOException when a file cannot be written
   */
  public static void main(String[] args) throws IOException {
    List<String> names =
        args.length == 0 ? List.copyOf(EventContract.EVENTS.keySet()) : List.of(args);
    var released = EventContract.releasedSchemas();
    for (String name : names) {
      Schema current = EventContract.currentSchema(name);
      List<EventContract.Released> versions = released.getOrDefault(name, List.of());
      if (!versions.isEmpty() && versions.get(versions.size() - 1).schema().equals(current)) {
        System.out.println(
            name + ": unchanged since v" + versions.get(versions.size() - 1).version());
        continue;
      }
      for (EventContract.Released old : versions) {
        List<String> problems =
            CompatibilityChecker.backwardProblems(name, current, old.schema(), old.label());
        if (!problems.isEmpty()) {
          throw new IllegalStateException(String.join("\n", problems));
        }
      }
      int next = versions.isEmpty() ? 1 : versions.get(versions.size() - 1).version() + 1;
      Path file = EventContract.RELEASED_DIR.resolve(name).resolve("v" + next + ".avsc");
      Files.createDirectories(file.getParent());
      Files.writeString(file, SchemaFormatter.format("json/pretty", current) + "\n");
      System.out.println(name + ": released " + file);
    }
  }
}
