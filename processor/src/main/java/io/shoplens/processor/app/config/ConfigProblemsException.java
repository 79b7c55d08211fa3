package io.shoplens.processor.app.config;

import java.util.List;

/**
 * The configuration is unusable. Carries every problem found, one line each, so that an operator
 * fixes them all in one go instead of one per restart. The command line turns it into exit code 2.
 */
public final class ConfigProblemsException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  /**
   * @param problems one human-readable line per problem; not empty
   */
  public ConfigProblemsException(List<String> problems) {
    super(format(problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigProblemsException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  /** Each problem, one line each, in the order found. */
  public List<String> problems() {
    return problems;
  }

  private static String format(List<String> problems) {
    StringBuilder out =
        new StringBuilder("invalid configuration (")
            .append(problems.size())
            .append(problems.size() == 1 ? " problem)" : " problems)");
    for (String p : problems) {
      out.append(System.lineSeparator()).append("  - ").append(p);
    }
    return out.toString();
  }
}
