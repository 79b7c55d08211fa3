package io.shoplens.processor.app.evaluate;

import io.shoplens.processor.app.evaluate.EvaluationReport.Comparison;
import io.shoplens.processor.app.evaluate.EvaluationReport.Confusion;
import io.shoplens.processor.app.evaluate.EvaluationReport.Disagreement;
import io.shoplens.processor.app.evaluate.EvaluationReport.ModelReport;
import io.shoplens.processor.app.evaluate.EvaluationReport.TypeScore;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

/** Prints an {@link EvaluationReport} as text: models side by side, then confusions and notes. */
public final class ReportPrinter {
  private ReportPrinter() {}

  /** Prints the report. */
  public static void print(EvaluationReport report, PrintWriter out) {
    out.printf("%nsplit '%s' of %s: %d rows%n", report.split(), report.dataset(), report.rows());
    List<ModelReport> models = report.models();
    for (int i = 0; i < models.size(); i++) {
      out.printf(
          "model %c: %s (version %s)%n",
          'A' + i, models.get(i).bundle(), models.get(i).modelVersion());
    }
    out.println();
    StringBuilder header =
        new StringBuilder(String.format(Locale.ROOT, "%-10s %6s", "type", "rows"));
    for (int i = 0; i < models.size(); i++) {
      header.append(String.format(Locale.ROOT, "  %c %-7s %-10s", 'A' + i, "exact", "normalised"));
    }
    out.println(header);
    for (String type : models.get(0).types().keySet()) {
      TypeScore first = models.get(0).types().get(type);
      StringBuilder line =
          new StringBuilder(String.format(Locale.ROOT, "%-10s %6d", type, first.rows()));
      for (ModelReport m : models) {
        TypeScore s = m.types().get(type);
        if (s == null || s.rows() == 0) {
          line.append(String.format(Locale.ROOT, "  %-9s %-10s", "-", "-"));
        } else {
          line.append(
              String.format(
                  Locale.ROOT,
                  "  %-9s %-10s",
                  percent(s.exact(), s.rows()),
                  percent(s.normalised(), s.rows())));
        }
      }
      out.println(line);
    }
    out.println(
        "(normalised: canonical values of the attribute vocabulary compared, e.g. navy blue = blue;"
            + " for captions: names the right colour and kind)");
    for (int i = 0; i < models.size(); i++) {
      for (Confusion c : models.get(i).confusions().values()) {
        printConfusion(models.size() > 1 ? "model " + (char) ('A' + i) + " " : "", c, out);
      }
    }
    if (report.comparison() != null) {
      printComparison(report.comparison(), out);
    }
    if (!report.notes().isEmpty()) {
      out.println();
      out.println("notes:");
      report.notes().forEach(n -> out.println("  - " + n));
    }
  }

  private static void printConfusion(String prefix, Confusion c, PrintWriter out) {
    out.println();
    if (c.counts().isEmpty()) {
      out.printf("%s%s confusion: no rows%n", prefix, c.attribute());
      return;
    }
    out.printf("%s%s confusion (rows: truth, columns: answer)%n", prefix, c.attribute());
    List<String> labels = Evaluation.labels(c);
    int width = Math.max(6, labels.stream().mapToInt(String::length).max().orElse(6));
    StringBuilder header = new StringBuilder(pad("", width));
    labels.forEach(l -> header.append(' ').append(pad(l, width)));
    out.println(header);
    for (String truth : c.counts().keySet()) {
      StringBuilder line = new StringBuilder(pad(truth, width));
      for (String answer : labels) {
        int n = c.count(truth, answer);
        line.append(' ').append(pad(n == 0 ? "." : Integer.toString(n), width));
      }
      out.println(line);
    }
  }

  private static void printComparison(Comparison c, PrintWriter out) {
    out.println();
    out.printf(
        "A (%s) and B (%s) disagree on %d of %d rows: only A right %d, only B right %d%n",
        c.first(),
        c.second(),
        c.disagreements(),
        c.rows(),
        c.onlyFirstRight(),
        c.onlySecondRight());
    for (Disagreement d : c.listed()) {
      out.printf(
          "  %s %s %s truth '%s': A '%s', B '%s'%n",
          d.productId(),
          d.type(),
          d.question() == null ? "(caption)" : "'" + d.question() + "'",
          d.truth(),
          d.first(),
          d.second());
    }
    if (c.listed().size() < c.disagreements()) {
      out.printf("  ... %d more%n", c.disagreements() - c.listed().size());
    }
  }

  private static String percent(int n, int of) {
    return String.format(Locale.ROOT, "%.1f%%", 100.0 * n / of);
  }

  private static String pad(String s, int width) {
    return s.length() >= width ? s : s + " ".repeat(width - s.length());
  }
}
