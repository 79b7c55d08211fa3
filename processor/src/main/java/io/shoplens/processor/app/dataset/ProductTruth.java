package io.shoplens.processor.app.dataset;

import io.shoplens.processor.topology.recommend.AttributeVocabulary;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a catalog product's attributes say is true of its image: its kind, its attribute values by
 * row type, its rule overrides, and from them the questions with their answers and the caption.
 *
 * <p>One place for the mapping, so that a training set ({@link DatasetBuilder}) and the evaluation
 * of a replay window against the catalog ask and score the same things.
 *
 * @param kind the product's kind (its category attribute, or the kind its category path names)
 * @param attributes row type to value, e.g. {@code colour -> navy blue}, the kind included
 * @param ruleOverrides rule attribute to value, e.g. {@code outdoor -> yes}
 */
public record ProductTruth(
    String kind, Map<String, String> attributes, Map<String, String> ruleOverrides) {

  public ProductTruth {
    Objects.requireNonNull(kind, "kind");
    // Ordered: questions come out in the catalog's attribute order.
    attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    ruleOverrides = Collections.unmodifiableMap(new LinkedHashMap<>(ruleOverrides));
  }

  /** Told about each attribute (or the whole product) that gives no truth. */
  @FunctionalInterface
  public interface Problems {
    /**
     * @param reason one of the {@link Skips} reasons
     * @param detail what was wrong, in words
     */
    void report(String reason, String detail);
  }

  /**
   * The truth of a product, or null when it has none: no attributes, or no kind (neither a category
   * attribute nor a category path the vocabulary knows). Attributes no template covers and empty
   * values are reported and left out.
   */
  public static ProductTruth of(
      CatalogProduct p,
      QuestionTemplates templates,
      AttributeVocabulary vocabulary,
      Problems problems) {
    if (p.attributes().isEmpty()) {
      problems.report(Skips.MISSING_ATTRIBUTES, "the product has no attributes");
      return null;
    }
    // The first alias of a type wins.
    Map<String, String> byType = new LinkedHashMap<>();
    Map<String, String> ruleValues = new LinkedHashMap<>();
    for (Map.Entry<String, String> a : p.attributes().entrySet()) {
      String value = a.getValue() == null ? "" : a.getValue().strip();
      String name = a.getKey().strip().toLowerCase(Locale.ROOT);
      if (templates.isRuleAttribute(name)) {
        if (!value.isEmpty()) {
          ruleValues.put(name, value);
        }
        continue;
      }
      var type = templates.typeOfAttribute(name);
      if (type.isEmpty()) {
        type = templates.typeOfAttribute(vocabulary.attributeName(name));
      }
      if (type.isEmpty()) {
        problems.report(
            Skips.UNKNOWN_ATTRIBUTE, a.getKey() + "=" + value + " (no questions for it)");
        continue;
      }
      if (value.isEmpty()) {
        problems.report(Skips.MISSING_FIELD, "attribute " + a.getKey() + " is empty");
        continue;
      }
      byType.putIfAbsent(type.get(), value);
    }
    String kind = byType.get("category");
    if (kind == null) {
      kind = p.category().isBlank() ? null : vocabulary.categoryOfPath(p.category());
      if (kind == null) {
        problems.report(
            Skips.MISSING_ATTRIBUTES,
            "no category attribute, and the category '" + p.category() + "' names no known kind");
        return null;
      }
      byType.put("category", kind);
    }
    return new ProductTruth(kind, byType, ruleValues);
  }

  /** Every templated question about the product with its true answer. */
  public List<QuestionTemplates.Question> questions(QuestionTemplates templates) {
    return templates.questionsFor(kind, attributes, ruleOverrides);
  }

  /** The product's true caption, e.g. "a white striped shirt". */
  public String caption(QuestionTemplates templates) {
    return templates.caption(kind, attributes);
  }
}
