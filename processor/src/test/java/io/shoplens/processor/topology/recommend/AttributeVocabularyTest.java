package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.events.GarmentCategory;
import org.junit.jupiter.api.Test;

class AttributeVocabularyTest {
  private final AttributeVocabulary defaults = AttributeVocabulary.defaults();

  @Test
  void shouldMapFreeAnswersToCanonicalValues() {
    assertThat(defaults.normalize("colour", "Navy")).isEqualTo("blue");
    assertThat(defaults.normalize("colour", "it is a navy blue shirt")).isEqualTo("blue");
    assertThat(defaults.normalize("colour", "OFF-WHITE")).isEqualTo("beige"); // longest phrase wins
    assertThat(defaults.normalize("category", "a white T-Shirt")).isEqualTo("t-shirt");
    assertThat(defaults.normalize("category", "blue jeans")).isEqualTo("jeans");
    assertThat(defaults.normalize("category", "two summer dresses")).isEqualTo("dress"); // plural
    assertThat(defaults.normalize("material", "100% cashmere")).isEqualTo("wool");
    assertThat(defaults.normalize("pattern", "Plaid")).isEqualTo("checked");
    assertThat(defaults.normalize("style", "boho chic")).isEqualTo("bohemian");
  }

  @Test
  void shouldLeaveAnswersThatMatchNothingUnknown() {
    assertThat(defaults.normalize("colour", "i don't know")).isNull();
    assertThat(defaults.normalize("colour", "!!!")).isNull();
    assertThat(defaults.normalize("category", "zzz")).isNull();
  }

  @Test
  void shouldResolveAttributeNameAliasesAndKeepUndefinedAttributesAsText() {
    assertThat(defaults.attributeName("Color")).isEqualTo("colour");
    assertThat(defaults.normalize("color", "crimson")).isEqualTo("red");
    assertThat(defaults.defines("fabric")).isTrue();
    assertThat(defaults.normalize("sleeve_length", "  Long,  Sleeves ")).isEqualTo("long sleeves");
  }

  @Test
  void shouldTakeTheDeepestCategoryOfACatalogPath() {
    assertThat(defaults.categoryOfPath("women/tops/t-shirts")).isEqualTo("t-shirt");
    assertThat(defaults.categoryOfPath("men/trousers/other")).isEqualTo("trousers");
    assertThat(defaults.categoryOfPath("misc")).isNull();
  }

  @Test
  void shouldMapCategoriesToGarmentCategories() {
    assertThat(defaults.garmentCategory("t-shirt")).isEqualTo(GarmentCategory.UPPER_BODY);
    assertThat(defaults.garmentCategory("jeans")).isEqualTo(GarmentCategory.LOWER_BODY);
    assertThat(defaults.garmentCategory("dress")).isEqualTo(GarmentCategory.FULL_BODY);
    assertThat(defaults.garmentCategory("sneakers")).isEqualTo(GarmentCategory.FOOTWEAR);
    assertThat(defaults.garmentCategory("bag")).isEqualTo(GarmentCategory.ACCESSORY);
    assertThat(defaults.garmentCategory("cup")).isEqualTo(GarmentCategory.NOT_A_GARMENT);
    assertThat(defaults.garmentCategory(null)).isEqualTo(GarmentCategory.UNKNOWN);
    assertThat(defaults.garmentCategory("kilt")).isEqualTo(GarmentCategory.UNKNOWN);
  }

  @Test
  void shouldParseAConfiguredVocabulary() {
    AttributeVocabulary v =
        AttributeVocabulary.parse(
            """
            # a shop's own words
            colour.petrol = teal, dark cyan
            colour.petrol = bluish green        # added to the same value
            @alias.farbe = colour
            category.kilt = tartan skirt
            @garment.lower_body = kilt
            """,
            "shop.vocab");
    assertThat(v.normalize("farbe", "Dark Cyan")).isEqualTo("petrol");
    assertThat(v.normalize("colour", "a bluish green scarf")).isEqualTo("petrol");
    assertThat(v.normalize("colour", "navy")).isNull();
    assertThat(v.garmentCategory(v.normalize("category", "kilts")))
        .isEqualTo(GarmentCategory.LOWER_BODY);
  }

  @Test
  void shouldNameTheLineOfAMalformedEntry() {
    assertThatThrownBy(
            () -> AttributeVocabulary.parse("colour.red = crimson\nnonsense\n", "x.vocab"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("x.vocab:2")
        .hasMessageContaining("nonsense");
    assertThatThrownBy(() -> AttributeVocabulary.parse("@garment.TORSO = shirt", "y.vocab"))
        .hasMessageContaining("y.vocab:1")
        .hasMessageContaining("unknown garment category");
  }
}
