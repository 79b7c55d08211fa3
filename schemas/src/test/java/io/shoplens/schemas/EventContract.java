package io.shoplens.schemas;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ImageCaptioned;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.Product;
import io.shoplens.events.ProductSearchRequested;
import io.shoplens.events.ProductSearchResults;
import io.shoplens.events.QuestionAnswered;
import io.shoplens.events.QuestionAsked;
import io.shoplens.events.RecommendationsIssued;
import io.shoplens.events.UploadEmbedding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParser;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * Test support: the top-level events of the contract, their current schemas as written in {@code
 * src/main/avro}, and their released versions kept in {@code src/main/avro-released}.
 *
 * <p>Paths are relative to the {@code schemas} module, which is Maven Surefire's working directory;
 * run from the repository root (as {@code exec:java} does) they resolve under {@code schemas/}, and
 * from a sibling module's tests (avro-serde's interop test) under {@code ../schemas/}.
 */
public final class EventContract {

  /** Where the schemas under development live (what the avro-maven-plugin compiles). */
  public static final Path SOURCE_DIR = moduleDir().resolve(Path.of("src", "main", "avro"));

  /** Where released schemas live: {@code <Name>/v<N>.avsc}, each self-contained. */
  public static final Path RELEASED_DIR =
      moduleDir().resolve(Path.of("src", "main", "avro-released"));

  private static final Pattern VERSION_FILE = Pattern.compile("v([1-9][0-9]*)\\.avsc");

  /** Every top-level event (a topic value), by schema name, with its generated class. */
  public static final Map<String, Class<? extends SpecificRecordBase>> EVENTS = events();

  private EventContract() {}

  private static Path moduleDir() {
    Path here = Path.of("");
    if (Files.isDirectory(here.resolve(Path.of("src", "main", "avro")))) {
      return here;
    }
    for (Path module : List.of(Path.of("schemas"), Path.of("..", "schemas"))) {
      if (Files.isDirectory(module.resolve(Path.of("src", "main", "avro")))) {
        return module;
      }
    }
    throw new IllegalStateException(
        "Run from the repository root, the schemas module or a sibling module; no src/main/avro"
            + " under "
            + here.toAbsolutePath());
  }

  private static Map<String, Class<? extends SpecificRecordBase>> events() {
    Map<String, Class<? extends SpecificRecordBase>> events = new LinkedHashMap<>();
    events.put("ImageUploaded", ImageUploaded.class);
    events.put("QuestionAsked", QuestionAsked.class);
    events.put("ImageCaptioned", ImageCaptioned.class);
    events.put("QuestionAnswered", QuestionAnswered.class);
    events.put("RecommendationsIssued", RecommendationsIssued.class);
    events.put("Product", Product.class);
    events.put("ProductSearchRequested", ProductSearchRequested.class);
    events.put("ProductSearchResults", ProductSearchResults.class);
    events.put("DeadLetter", DeadLetter.class);
    events.put("UploadEmbedding", UploadEmbedding.class);
    return Collections.unmodifiableMap(events);
  }

  /** The full name of a top-level event, for example {@code io.shoplens.events.Product}. */
  public static String fullName(String simpleName) {
    return "io.shoplens.events." + simpleName;
  }

  /**
   * Parses every {@code .avsc} file under {@link #SOURCE_DIR} together (named types may refer to
   * each other across files; shared types in subfolders are parsed first) and returns every named
   * type, resolved and self-contained, by full name.
   */
  public static Map<String, Schema> currentSchemas() {
    SchemaParser parser = new SchemaParser();
    try (Stream<Path> files = Files.walk(SOURCE_DIR)) {
      // Shared types (common/) first, as the avro-maven-plugin's imports do: a default value is
      // validated at parse time, so an enum must be known before a field defaults to a symbol.
      List<Path> avsc =
          files
              .filter(p -> p.toString().endsWith(".avsc"))
              .sorted(Comparator.comparing((Path p) -> -p.getNameCount()).thenComparing(p -> p))
              .toList();
      for (Path file : avsc) {
        parser.parse(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read schemas under " + SOURCE_DIR.toAbsolutePath(), e);
    }
    // References across files are resolved once every file has been parsed.
    Map<String, Schema> byName = new TreeMap<>();
    for (Schema schema : parser.getParsedNamedSchemas()) {
      byName.put(schema.getFullName(), schema);
    }
    return byName;
  }

  /** The current schema of one top-level event, as written in {@link #SOURCE_DIR}. */
  public static Schema currentSchema(String simpleName) {
    Schema schema = currentSchemas().get(fullName(simpleName));
    if (schema == null) {
      throw new IllegalArgumentException(
          "No schema " + fullName(simpleName) + " under " + SOURCE_DIR.toAbsolutePath());
    }
    return schema;
  }

  /** One released version of an event schema. */
  public record Released(String name, int version, Path file, Schema schema) {
    /** How messages name it, for example {@code QuestionAsked v1}. */
    public String label() {
      return name + " v" + version + " (" + file + ")";
    }
  }

  /**
   * Every released version under {@link #RELEASED_DIR}, grouped by event name and sorted by
   * version. Each file is parsed on its own, so a released copy must be self-contained.
   *
   * @throws IllegalStateException when a file does not follow the {@code <Name>/v<N>.avsc} layout
   *     or names a different schema than its folder
   */
  public static Map<String, List<Released>> releasedSchemas() {
    Map<String, List<Released>> byName = new TreeMap<>();
    try (Stream<Path> files = Files.walk(RELEASED_DIR)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        Path relative = RELEASED_DIR.relativize(file);
        Matcher m = VERSION_FILE.matcher(file.getFileName().toString());
        if (relative.getNameCount() != 2 || !m.matches()) {
          throw new IllegalStateException(
              "Released schema " + file + " must be named <Name>/v<N>.avsc under " + RELEASED_DIR);
        }
        String name = relative.getName(0).toString();
        Schema schema = new SchemaParser().parse(file).mainSchema();
        if (!schema.getFullName().equals(fullName(name))) {
          throw new IllegalStateException(
              "Released schema "
                  + file
                  + " defines "
                  + schema.getFullName()
                  + ", expected "
                  + fullName(name));
        }
        byName
            .computeIfAbsent(name, k -> new ArrayList<>())
            .add(new Released(name, Integer.parseInt(m.group(1)), file, schema));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RELEASED_DIR.toAbsolutePath(), e);
    }
    byName.values().forEach(list -> list.sort((a, b) -> Integer.compare(a.version(), b.version())));
    return byName;
  }
}
