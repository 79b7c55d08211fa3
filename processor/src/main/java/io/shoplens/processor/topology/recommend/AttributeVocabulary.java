package io.shoplens.processor.topology.recommend;

import io.shoplens.events.GarmentCategory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Maps free text (the model's answers to attribute prompts, the catalog's attribute values and
 * category paths) to canonical values, so that "navy blue", "Navy" and "it is dark blue" all become
 * {@code colour = blue}, and maps canonical categories to the {@link GarmentCategory} try-on uses.
 *
 * <h2>File format</h2>
 *
 * UTF-8 text, one entry per line; blank lines and lines starting with {@code #} are ignored:
 *
 * <pre>
 * colour.blue = navy, navy blue, cobalt, azure      # attribute.canonical = synonyms (may be empty)
 * category.t-shirt = tee, tshirt, t shirt
 * &#64;alias.color = colour                              # another name for an attribute
 * &#64;garment.UPPER_BODY = t-shirt, shirt, jacket      # canonical categories per GarmentCategory
 * </pre>
 *
 * The canonical value is everything after the first dot of the key; the attribute name is before
 * it. Names and values are case-insensitive. A later line for the same key adds to it.
 *
 * <h2>Matching</h2>
 *
 * Text is lower-cased and split into words at every character that is not a letter or digit ("T-
 * Shirt!" is {@code t shirt}). A phrase (a canonical value or a synonym, split the same way)
 * matches when its words occur consecutively in the text, a text word also matching when it is the
 * phrase word plus {@code s} or {@code es} (plurals: "jeans", "dresses"). Of all matching phrases
 * of the attribute the one with the most words wins ("navy blue" beats "blue"), then the earliest
 * in the text, then the first defined. No match: the value is unknown and takes no part in scoring.
 * Attributes the vocabulary does not define keep their text with words joined by single spaces.
 */
public final class AttributeVocabulary {
  /** The attribute whose canonical values are garment categories. */
  public static final String CATEGORY = "category";

  private static final String DEFAULT_RESOURCE = "default-vocabulary.txt";
  private static final String ALIAS = "@alias.";
  private static final String GARMENT = "@garment.";

  private final Map<String, List<Phrase>> phrases; // by attribute, in definition order
  private final Map<String, String> aliases;
  private final Map<String, GarmentCategory> garments; // canonical category -> garment

  private record Phrase(String canonical, String[] words) {}

  private AttributeVocabulary(
      Map<String, List<Phrase>> phrases,
      Map<String, String> aliases,
      Map<String, GarmentCategory> garments) {
    this.phrases = phrases;
    this.aliases = aliases;
    this.garments = garments;
  }

  /** The built-in vocabulary: category, colour, material, pattern and style of clothing. */
  public static AttributeVocabulary defaults() {
    try (InputStream in = AttributeVocabulary.class.getResourceAsStream(DEFAULT_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + DEFAULT_RESOURCE + " is missing");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), DEFAULT_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An empty vocabulary: every attribute keeps its text, no garment categories. */
  public static AttributeVocabulary empty() {
    return new AttributeVocabulary(Map.of(), Map.of(), Map.of());
  }

  /**
   * Reads a vocabulary file (format above).
   *
   * @throws UncheckedIOException when the file cannot be read
   * @throws IllegalArgumentException naming the file and line of a malformed entry
   */
  public static AttributeVocabulary load(Path file) {
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read vocabulary " + file, e);
    }
  }

  /**
   * Parses vocabulary text (format above).
   *
   * @param source named in error messages
   * @throws IllegalArgumentException naming the source and line of a malformed entry
   */
  public static AttributeVocabulary parse(String text, String source) {
    Map<String, List<Phrase>> phrases = new LinkedHashMap<>();
    Map<String, String> aliases = new LinkedHashMap<>();
    Map<String, GarmentCategory> garments = new LinkedHashMap<>();
    String[] lines = text.split("\\R", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n];
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = source + ":" + (n + 1);
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException(
            where + ": expected 'attribute.value = synonyms', got '" + line + "'");
      }
      String key = line.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      List<String> values = new ArrayList<>();
      for (String v : line.substring(eq + 1).split(",")) {
        if (!v.isBlank()) {
          values.add(v.strip().toLowerCase(Locale.ROOT));
        }
      }
      if (key.startsWith(ALIAS)) {
        String alias = key.substring(ALIAS.length());
        if (alias.isEmpty() || values.size() != 1) {
          throw new IllegalArgumentException(
              where + ": expected '@alias.<name> = <attribute>', got '" + line + "'");
        }
        aliases.put(alias, values.get(0));
      } else if (key.startsWith(GARMENT)) {
        GarmentCategory garment;
        try {
          garment =
              GarmentCategory.valueOf(key.substring(GARMENT.length()).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              where
                  + ": unknown garment category '"
                  + key.substring(GARMENT.length())
                  + "', expected one of "
                  + List.of(GarmentCategory.values()));
        }
        for (String category : values) {
          garments.put(String.join(" ", words(category)), garment);
        }
      } else {
        int dot = key.indexOf('.');
        if (dot <= 0 || dot == key.length() - 1) {
          throw new IllegalArgumentException(
              where + ": expected 'attribute.value = synonyms', got '" + line + "'");
        }
        String attribute = key.substring(0, dot).strip();
        String canonical = key.substring(dot + 1).strip();
        List<Phrase> list = phrases.computeIfAbsent(attribute, k -> new ArrayList<>());
        list.add(new Phrase(canonical, words(canonical)));
        for (String synonym : values) {
          String[] w = words(synonym);
          if (w.length == 0) {
            throw new IllegalArgumentException(
                where + ": synonym '" + synonym + "' has no letters or digits");
          }
          list.add(new Phrase(canonical, w));
        }
      }
    }
    phrases.replaceAll((k, v) -> List.copyOf(v));
    return new AttributeVocabulary(
        Collections.unmodifiableMap(phrases),
        Collections.unmodifiableMap(aliases),
        Collections.unmodifiableMap(garments));
  }

  /** The attribute name an alias stands for, or the name itself (lower-cased, trimmed). */
  public String attributeName(String name) {
    String n = name.strip().toLowerCase(Locale.ROOT);
    return aliases.getOrDefault(n, n);
  }

  /** Whether the vocabulary defines canonical values for {@code attribute} (after aliases). */
  public boolean defines(String attribute) {
    return phrases.containsKey(attributeName(attribute));
  }

  /**
   * The canonical value of free text for an attribute, or null when it is unknown (a defined
   * attribute with no matching phrase, or text without letters or digits).
   */
  public String normalize(String attribute, String text) {
    Objects.requireNonNull(text, "text");
    String[] words = words(text);
    if (words.length == 0) {
      return null;
    }
    List<Phrase> list = phrases.get(attributeName(attribute));
    if (list == null) {
      return String.join(" ", words);
    }
    Phrase best = null;
    int bestAt = Integer.MAX_VALUE;
    for (Phrase p : list) {
      int at = find(words, p.words());
      if (at < 0) {
        continue;
      }
      if (best == null
          || p.words().length > best.words().length
          || (p.words().length == best.words().length && at < bestAt)) {
        best = p;
        bestAt = at;
      }
    }
    return best == null ? null : best.canonical();
  }

  /**
   * The canonical category of a catalog category path such as {@code women/tops/t-shirts}: the
   * deepest segment that normalises, or null.
   */
  public String categoryOfPath(String path) {
    String[] segments = path.split("[/>|]");
    for (int i = segments.length - 1; i >= 0; i--) {
      String c = segments[i].isBlank() ? null : normalize(CATEGORY, segments[i]);
      if (c != null) {
        return c;
      }
    }
    return null;
  }

  /** The garment category of a canonical category; {@code UNKNOWN} for null or an unlisted one. */
  public GarmentCategory garmentCategory(String canonicalCategory) {
    if (canonicalCategory == null) {
      return GarmentCategory.UNKNOWN;
    }
    return garments.getOrDefault(
        String.join(" ", words(canonicalCategory)), GarmentCategory.UNKNOWN);
  }

  private static int find(String[] text, String[] phrase) {
    outer:
    for (int i = 0; i + phrase.length <= text.length; i++) {
      for (int j = 0; j < phrase.length; j++) {
        if (!sameWord(text[i + j], phrase[j])) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static boolean sameWord(String text, String phrase) {
    if (text.equals(phrase)) {
      return true;
    }
    // Plurals only, and only for words long enough not to turn "a" into "as".
    return phrase.length() >= 2
        && text.startsWith(phrase)
        && (text.length() == phrase.length() + 1 && text.endsWith("s")
            || text.length() == phrase.length() + 2 && text.endsWith("es"));
  }

  private static String[] words(String text) {
    String[] parts = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{Nd}]+");
    List<String> out = new ArrayList<>(parts.length);
    for (String p : parts) {
      if (!p.isEmpty()) {
        out.add(p);
      }
    }
    return out.toArray(String[]::new);
  }
}
