package io.shoplens.schemas;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaIncompatibilityType;

/**
 * Test support: BACKWARD compatibility (the new schema reads data written with an old one) as
 * decided by Avro's own {@link SchemaCompatibility}, with problems reported by field path.
 */
public final class CompatibilityChecker {

  private CompatibilityChecker() {}

  /**
   * Checks that {@code reader} can read everything written with {@code writer}.
   *
   * @param name how to name the schema in messages, for example {@code QuestionAsked}
   * @param writerLabel how to name the writer version, for example {@code v1}
   * @return one line per incompatibility, naming the schema, the field path, Avro's incompatibility
   *     type and its message; empty when compatible
   */
  public static List<String> backwardProblems(
      String name, Schema reader, Schema writer, String writerLabel) {
    List<String> problems = new ArrayList<>();
    collect(name, writerLabel, reader, writer, reader.getName(), reader, problems);
    return problems;
  }

  private static void collect(
      String name,
      String writerLabel,
      Schema reader,
      Schema writer,
      String prefix,
      Schema pathRoot,
      List<String> problems) {
    List<Incompatibility> incompatibilities =
        SchemaCompatibility.checkReaderWriterCompatibility(reader, writer)
            .getResult()
            .getIncompatibilities();
    for (Incompatibility incompatibility : incompatibilities) {
      String path = prefix + fieldPath(pathRoot, incompatibility.getLocation());
      Schema writerType = writerBranch(incompatibility);
      Schema sameNamedBranch = sameNamedBranch(incompatibility.getReaderFragment(), writerType);
      if (incompatibility.getType() == SchemaIncompatibilityType.MISSING_UNION_BRANCH
          && sameNamedBranch != null) {
        // Avro stops at the union ("reader union lacking writer type: RECORD"); the useful answer
        // is inside the record of the same name, so look there.
        collect(name, writerLabel, sameNamedBranch, writerType, path, sameNamedBranch, problems);
        continue;
      }
      problems.add(
          String.format(
              "%s: the current schema cannot read data written with %s: %s at field %s (%s): %s",
              name,
              writerLabel,
              incompatibility.getType(),
              path,
              incompatibility.getLocation(),
              incompatibility.getMessage()));
    }
  }

  /**
   * The writer type a MISSING_UNION_BRANCH is about: Avro reports the whole writer union as the
   * fragment and the branch's index as the last step of the location.
   */
  private static Schema writerBranch(Incompatibility incompatibility) {
    Schema writer = incompatibility.getWriterFragment();
    if (writer == null || writer.getType() != Schema.Type.UNION) {
      return writer;
    }
    String location = incompatibility.getLocation();
    String last = location.substring(location.lastIndexOf('/') + 1);
    if (!last.matches("[0-9]+") || Integer.parseInt(last) >= writer.getTypes().size()) {
      return null;
    }
    return writer.getTypes().get(Integer.parseInt(last));
  }

  /** The branch of a reader union that has the same full name as a named writer type, if any. */
  private static Schema sameNamedBranch(Schema readerUnion, Schema writerType) {
    if (readerUnion == null
        || readerUnion.getType() != Schema.Type.UNION
        || writerType == null
        || !isNamed(writerType)) {
      return null;
    }
    for (Schema branch : readerUnion.getTypes()) {
      if (isNamed(branch) && branch.getFullName().equals(writerType.getFullName())) {
        return branch;
      }
    }
    return null;
  }

  private static boolean isNamed(Schema schema) {
    return switch (schema.getType()) {
      case RECORD, ENUM, FIXED -> true;
      default -> false;
    };
  }

  /**
   * Turns Avro's JSON-pointer location into the reader schema ({@code /fields/5/type/1/fields/2})
   * into a field path relative to it ({@code .generationOptions.topK}). Avro numbers union branches
   * by the writer's union in some cases, so a branch index that does not fit the reader's union
   * ends the translation; the raw location is always reported next to it.
   */
  static String fieldPath(Schema root, String location) {
    StringBuilder path = new StringBuilder();
    Schema current = root;
    Schema.Field field = null;
    String[] tokens = location.split("/");
    for (int i = 1; i < tokens.length && current != null; i++) {
      String token = tokens[i];
      switch (token) {
        case "fields" -> {
          if (i + 1 >= tokens.length || current.getType() != Schema.Type.RECORD) {
            return path.toString();
          }
          int index = Integer.parseInt(tokens[++i]);
          if (index >= current.getFields().size()) {
            return path.toString();
          }
          field = current.getFields().get(index);
          path.append('.').append(field.name());
          current = null;
        }
        case "type" -> current = field == null ? null : field.schema();
        case "items" -> {
          path.append("[]");
          current = current.getType() == Schema.Type.ARRAY ? current.getElementType() : null;
        }
        case "values" -> {
          path.append("{}");
          current = current.getType() == Schema.Type.MAP ? current.getValueType() : null;
        }
        default -> {
          if (current.getType() == Schema.Type.UNION && token.matches("[0-9]+")) {
            int branch = Integer.parseInt(token);
            current = branch < current.getTypes().size() ? current.getTypes().get(branch) : null;
          } else {
            // "symbols", "name", "size": the location names a part of the type itself.
            return path.toString();
          }
        }
      }
    }
    return path.toString();
  }
}
