package io.shoplens.registry;

import java.util.Locale;

/** A subject's compatibility level, as Confluent's registry names them. */
public enum CompatibilityLevel {
  NONE,
  BACKWARD,
  BACKWARD_TRANSITIVE,
  FORWARD,
  FORWARD_TRANSITIVE,
  FULL,
  FULL_TRANSITIVE;

  /** Confluent's default for a new registry. */
  public static final CompatibilityLevel DEFAULT = BACKWARD;

  /**
   * Parses a level name, ignoring case.
   *
   * @throws IllegalArgumentException naming the valid levels when {@code name} is none of them
   */
  public static CompatibilityLevel parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException(
          "Unknown compatibility level '"
              + name
              + "', expected one of "
              + java.util.Arrays.toString(values()),
          e);
    }
  }

  /** Whether a new schema must be able to read data written with older ones. */
  boolean checksBackward() {
    return this == BACKWARD
        || this == BACKWARD_TRANSITIVE
        || this == FULL
        || this == FULL_TRANSITIVE;
  }

  /** Whether older schemas must be able to read data written with a new one. */
  boolean checksForward() {
    return this == FORWARD || this == FORWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
  }

  /** Whether every earlier version is checked, not only the latest. */
  boolean isTransitive() {
    return this == BACKWARD_TRANSITIVE || this == FORWARD_TRANSITIVE || this == FULL_TRANSITIVE;
  }
}
