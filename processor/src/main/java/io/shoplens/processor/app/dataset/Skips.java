package io.shoplens.processor.app.dataset;

import java.io.PrintWriter;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Counts what a dataset build skipped, by reason, and prints one line for each, so that a bad row
 * is seen and counted but never stops the build.
 */
public final class Skips {
  /** A product without an image reference or file. */
  public static final String MISSING_IMAGE = "missing image";

  /** A product whose image the resolver refused (not allow-listed, too large, HTTP error, ...). */
  public static final String IMAGE_REFUSED = "image refused";

  /** Image bytes that do not decode as an image. */
  public static final String UNREADABLE_IMAGE = "unreadable image";

  /** A product without attributes. */
  public static final String MISSING_ATTRIBUTES = "missing attributes";

  /** An attribute (or a curated row's type) that no template covers. */
  public static final String UNKNOWN_ATTRIBUTE = "unknown attribute";

  /** A line or record that does not parse. */
  public static final String UNREADABLE_ROW = "unreadable row";

  /** A row or product that lacks a required field. */
  public static final String MISSING_FIELD = "missing field";

  private final Map<String, Integer> counts = new TreeMap<>();
  private final PrintWriter out;

  /**
   * @param out where each skip is printed, one line each
   */
  public Skips(PrintWriter out) {
    this.out = out;
  }

  /** Counts and prints one skip. */
  public void skip(String where, String reason, String detail) {
    counts.merge(reason, 1, Integer::sum);
    out.println("skipped " + where + ": " + reason + ": " + detail);
  }

  /** Skips so far, by reason (sorted). */
  public Map<String, Integer> counts() {
    return Collections.unmodifiableMap(new TreeMap<>(counts));
  }

  /** How many in all. */
  public int total() {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }
}
