package io.shoplens.processor.app.dataset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The question templates, rules and caption recipe of a training set, read from {@code
 * question-templates.json} (this package's resource; format in docs/dataset.md). The file is the
 * one place they are written, so that the Python trainer can read the same one.
 *
 * <p>Immutable and thread-safe.
 */
public final class QuestionTemplates {
  /** The row type of a caption (no question). */
  public static final String CAPTION = "caption";

  /** The row type of a rule's question. */
  public static final String RULE = "rule";

  private static final String RESOURCE = "question-templates.json";

  private final List<String> types;
  private final Map<String, String> attributeTypes;
  private final Set<String> pluralKinds;
  private final Map<String, List<String>> templates;
  private final List<Rule> rules;
  private final String article;
  private final Set<String> omitPatterns;

  /**
   * A rule: a yes/no question whose answer follows from the product's kind.
   *
   * @param name the rule's name
   * @param attribute a product attribute that, when present, gives the answer instead of the table
   * @param templates its phrasings
   * @param answers kind to answer; kinds not listed get no rule question
   */
  public record Rule(
      String name, String attribute, List<String> templates, Map<String, String> answers) {
    public Rule {
      templates = List.copyOf(templates);
      answers = Map.copyOf(answers);
    }
  }

  /**
   * One generated question and its answer.
   *
   * @param type the row type ({@code colour}, {@code rule}, ...)
   * @param question the question text
   * @param answer the true answer
   */
  public record Question(String type, String question, String answer) {}

  private QuestionTemplates(JsonNode root) {
    types = strings(root.path("types"));
    attributeTypes = new LinkedHashMap<>();
    root.path("attributes")
        .properties()
        .forEach(
            e -> attributeTypes.put(e.getKey().toLowerCase(Locale.ROOT), e.getValue().asText()));
    pluralKinds = new LinkedHashSet<>(strings(root.path("pluralKinds")));
    templates = new LinkedHashMap<>();
    root.path("templates")
        .properties()
        .forEach(e -> templates.put(e.getKey(), strings(e.getValue())));
    rules = new ArrayList<>();
    for (JsonNode r : root.path("rules")) {
      Map<String, String> answers = new LinkedHashMap<>();
      r.path("answers").properties().forEach(e -> answers.put(e.getKey(), e.getValue().asText()));
      rules.add(
          new Rule(
              r.path("name").asText(),
              r.path("attribute").asText(null),
              strings(r.path("templates")),
              answers));
    }
    article = root.path("caption").path("article").asText("a");
    omitPatterns = new LinkedHashSet<>(strings(root.path("caption").path("omitPatterns")));
    for (String type : attributeTypes.values()) {
      if (!types.contains(type) || !templates.containsKey(type)) {
        throw new IllegalStateException(
            RESOURCE + ": attribute type '" + type + "' has no templates or is not in types");
      }
    }
  }

  /** The built-in templates (this package's {@code question-templates.json}). */
  public static QuestionTemplates defaults() {
    try (InputStream in = QuestionTemplates.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE + " is missing");
      }
      return new QuestionTemplates(new ObjectMapper().readTree(in));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /** Every row type, in report order: the attribute types, {@code rule}, {@code caption}. */
  public List<String> types() {
    return List.copyOf(types);
  }

  /** The row type of a product attribute (aliases such as {@code color} included), if any. */
  public Optional<String> typeOfAttribute(String attribute) {
    return Optional.ofNullable(attributeTypes.get(attribute.strip().toLowerCase(Locale.ROOT)));
  }

  /** Whether a product attribute is a rule's override (e.g. {@code outdoor}). */
  public boolean isRuleAttribute(String attribute) {
    String a = attribute.strip().toLowerCase(Locale.ROOT);
    return rules.stream().anyMatch(r -> a.equals(r.attribute()));
  }

  /** The rules. */
  public List<Rule> rules() {
    return List.copyOf(rules);
  }

  /** Every phrasing of an attribute type's question for a product of {@code kind}. */
  public List<String> questions(String type, String kind) {
    List<String> list = templates.get(type);
    if (list == null) {
      throw new IllegalArgumentException(
          "no templates for type '" + type + "', expected one of " + templates.keySet());
    }
    return fill(list, kind);
  }

  /**
   * The questions and answers of one product.
   *
   * @param kind the product's kind (its category), used in templates and rules
   * @param attributes attribute type to value (already mapped from the product's names)
   * @param ruleOverrides rule attribute to value, from the product (e.g. outdoor = yes)
   */
  public List<Question> questionsFor(
      String kind, Map<String, String> attributes, Map<String, String> ruleOverrides) {
    List<Question> out = new ArrayList<>();
    for (Map.Entry<String, String> a : attributes.entrySet()) {
      for (String q : questions(a.getKey(), kind)) {
        out.add(new Question(a.getKey(), q, a.getValue()));
      }
    }
    for (Rule rule : rules) {
      String answer =
          rule.attribute() != null && ruleOverrides.containsKey(rule.attribute())
              ? ruleOverrides.get(rule.attribute())
              : rule.answers().get(kind);
      if (answer != null) {
        for (String q : fill(rule.templates(), kind)) {
          out.add(new Question(RULE, q, answer));
        }
      }
    }
    return out;
  }

  /**
   * The caption of a product's attributes: "a white striped shirt" (patterns such as {@code solid}
   * are not named; a missing part is left out).
   */
  public String caption(String kind, Map<String, String> attributes) {
    StringBuilder out = new StringBuilder(article);
    String colour = attributes.get("colour");
    if (colour != null) {
      out.append(' ').append(colour);
    }
    String pattern = attributes.get("pattern");
    if (pattern != null && !omitPatterns.contains(pattern.toLowerCase(Locale.ROOT))) {
      out.append(' ').append(pattern);
    }
    return out.append(' ').append(kind).toString();
  }

  private List<String> fill(List<String> list, String kind) {
    boolean plural = pluralKinds.contains(kind.toLowerCase(Locale.ROOT));
    List<String> out = new ArrayList<>(list.size());
    for (String t : list) {
      out.add(
          t.replace("{kind}", kind)
              .replace("{are}", plural ? "are" : "is")
              .replace("{is_this}", plural ? "are these" : "is this")
              .replace("{Are_these}", plural ? "Are these" : "Is this"));
    }
    return out;
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : array) {
      out.add(n.asText());
    }
    return out;
  }
}
