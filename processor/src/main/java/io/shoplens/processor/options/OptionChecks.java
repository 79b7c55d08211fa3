package io.shoplens.processor.options;

import java.time.Duration;
import java.util.Objects;

/**
 * The checks that option records run in their compact constructors, stated once so that every
 * record says the same thing the same way: each throws {@link IllegalArgumentException} with a
 * message that names the setting, what was expected and what came instead ({@code "topK must be in
 * [1, 1000], got 0"}).
 *
 * <p>A leaf: it knows nothing of Kafka, the model or the topology, so that every package with
 * options ({@code images}, {@code topology}, {@code app}) may use it.
 */
public final class OptionChecks {
  private OptionChecks() {}

  /**
   * @throws IllegalArgumentException with {@code message} unless {@code condition}
   */
  public static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * @throws IllegalArgumentException unless {@code value >= min}
   */
  public static void atLeast(String name, long value, long min) {
    require(value >= min, name + " must be >= " + min + ", got " + value);
  }

  /**
   * @throws IllegalArgumentException unless {@code min <= value <= max}
   */
  public static void inRange(String name, long value, long min, long max) {
    require(
        value >= min && value <= max,
        name + " must be in [" + min + ", " + max + "], got " + value);
  }

  /**
   * @throws NullPointerException if {@code value} is null (the message is {@code name})
   * @throws IllegalArgumentException if it is zero or negative
   */
  public static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    require(!value.isNegative() && !value.isZero(), name + " must be positive, got " + value);
  }

  /**
   * @throws NullPointerException if {@code value} is null (the message is {@code name})
   * @throws IllegalArgumentException if it is negative
   */
  public static void notNegative(String name, Duration value) {
    Objects.requireNonNull(value, name);
    require(!value.isNegative(), name + " must not be negative, got " + value);
  }

  /**
   * @throws NullPointerException if {@code value} is null (the message is {@code name})
   * @throws IllegalArgumentException if it is empty or only white space
   */
  public static void notBlank(String name, String value) {
    Objects.requireNonNull(value, name);
    require(!value.isBlank(), name + " must not be blank");
  }
}
