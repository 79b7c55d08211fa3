package io.shoplens.processor.app.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.topology.ShopLensTopologyConfig;
import io.shoplens.processor.topology.ShopLensTopologyConfig.AttributePrompt;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuestionTemplatesTest {
  private final QuestionTemplates templates = QuestionTemplates.defaults();

  @Test
  void shouldAskEveryTopologyAttributePromptExactlyAsTheTopologyAsksIt() {
    // Given the prompts the topology puts to the model for every upload
    for (AttributePrompt prompt : ShopLensTopologyConfig.DEFAULT_ATTRIBUTE_PROMPTS) {
      // When the templates of that attribute are filled for any kind
      List<String> questions = templates.questions(prompt.name(), "shirt");
      // Then the first phrasing is the topology's prompt, and there are others
      assertThat(questions.get(0)).isEqualTo(prompt.question());
      assertThat(questions).hasSizeGreaterThan(1);
    }
  }

  @Test
  void shouldPhraseQuestionsAboutPluralKindsInThePlural() {
    assertThat(templates.questions("colour", "sneakers")).contains("what colour are the sneakers?");
    assertThat(templates.questions("colour", "shirt")).contains("what colour is the shirt?");
    assertThat(templates.questions("material", "boots")).contains("What are these boots made of?");
  }

  @Test
  void shouldAnswerTheOutdoorRuleFromTheKindForFootwearOnly() {
    // Given attributes of three kinds
    Map<String, String> attrs = Map.of("colour", "white");

    // When their questions are generated
    List<QuestionTemplates.Question> boots = templates.questionsFor("boots", attrs, Map.of());
    List<QuestionTemplates.Question> heels = templates.questionsFor("heels", attrs, Map.of());
    List<QuestionTemplates.Question> shirt = templates.questionsFor("shirt", attrs, Map.of());

    // Then boots are suitable outdoors, heels not, and a shirt gets no rule question
    assertThat(rule(boots))
        .contains(
            new QuestionTemplates.Question(
                "rule", "Is this shoe suitable for outdoor activities?", "yes"));
    assertThat(rule(boots)).extracting(QuestionTemplates.Question::answer).containsOnly("yes");
    assertThat(rule(heels)).extracting(QuestionTemplates.Question::answer).containsOnly("no");
    assertThat(rule(shirt)).isEmpty();
  }

  @Test
  void shouldLetTheProductsOwnRuleAttributeOverrideTheTable() {
    List<QuestionTemplates.Question> q =
        templates.questionsFor("sandals", Map.of(), Map.of("outdoor", "yes"));
    assertThat(rule(q))
        .isNotEmpty()
        .extracting(QuestionTemplates.Question::answer)
        .containsOnly("yes");
  }

  @Test
  void shouldCaptionFromColourPatternAndKindLeavingOutSolid() {
    Map<String, String> striped = new LinkedHashMap<>();
    striped.put("colour", "white");
    striped.put("pattern", "striped");
    assertThat(templates.caption("shirt", striped)).isEqualTo("a white striped shirt");
    assertThat(templates.caption("skirt", Map.of("colour", "red", "pattern", "solid")))
        .isEqualTo("a red skirt");
    assertThat(templates.caption("hat", Map.of())).isEqualTo("a hat");
  }

  @Test
  void shouldMapAttributeAliasesToTheirType() {
    assertThat(templates.typeOfAttribute("Color")).contains("colour");
    assertThat(templates.typeOfAttribute("fabric")).contains("material");
    assertThat(templates.typeOfAttribute("brand")).isEmpty();
    assertThat(templates.types()).endsWith("rule", "caption");
  }

  @Test
  void shouldRefuseATypeWithoutTemplates() {
    assertThatThrownBy(() -> templates.questions("brand", "shirt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("brand");
  }

  private static List<QuestionTemplates.Question> rule(List<QuestionTemplates.Question> all) {
    return all.stream().filter(q -> q.type().equals("rule")).toList();
  }
}
