package io.shoplens.schemas;

import static io.shoplens.schemas.SchemaEdits.edit;
import static io.shoplens.schemas.SchemaEdits.field;
import static io.shoplens.schemas.SchemaEdits.nonNullBranch;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The build's compatibility gate: every current event schema (reader) must read data written with
 * every released version of it (writer), as Avro's {@link org.apache.avro.SchemaCompatibility}
 * decides. Releasing a schema and the layout of released copies are described in schemas/README.md.
 */
class SchemaCompatibilityTest {

  static List<String> events() {
    return List.copyOf(EventContract.EVENTS.keySet());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("events")
  void shouldReadEveryReleasedVersionWithTheCurrentSchema(String event) {
    // Given the current schema and every released version of it
    Schema current = EventContract.currentSchema(event);
    List<EventContract.Released> released =
        EventContract.releasedSchemas().getOrDefault(event, List.of());
    assertThat(released)
        .as("released versions of %s under %s", event, EventContract.RELEASED_DIR)
        .isNotEmpty();

    // When each released version is checked as the writer
    List<String> problems = new ArrayList<>();
    for (EventContract.Released old : released) {
      problems.addAll(
          CompatibilityChecker.backwardProblems(event, current, old.schema(), old.label()));
    }

    // Then nothing is incompatible
    assertThat(problems)
        .as(
            "%s is not BACKWARD compatible with its released versions; make the change"
                + " compatible (new fields need a default) or introduce a new topic version",
            event)
        .isEmpty();
  }

  @Test
  void shouldKeepReleasedVersionsOnlyForEventsOfTheContract() {
    // Given the released folder
    Map<String, List<EventContract.Released>> released = EventContract.releasedSchemas();

    // Then every event has a baseline, and no released schema lost its current version
    assertThat(released.keySet())
        .containsExactlyInAnyOrderElementsOf(EventContract.EVENTS.keySet());
  }

  @Test
  void shouldRejectAFieldAddedWithoutDefaultNamingSchemaAndField() {
    // Given QuestionAsked v1 and a change that adds a required field without a default
    EventContract.Released v1 = EventContract.releasedSchemas().get("QuestionAsked").get(0);
    Schema changed =
        edit(
            EventContract.currentSchema("QuestionAsked"),
            root ->
                root.withArray("fields")
                    .addObject()
                    .put("name", "testOnlyField")
                    .put("type", "string")
                    .put("doc", "A field added by this test only."));

    // When the checker compares them
    List<String> problems =
        CompatibilityChecker.backwardProblems("QuestionAsked", changed, v1.schema(), v1.label());

    // Then it reports the schema, the field and the kind of incompatibility
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0))
        .contains(
            "QuestionAsked: the current schema cannot read data written with QuestionAsked v1")
        .contains("READER_FIELD_MISSING_DEFAULT_VALUE")
        .contains("at field QuestionAsked.testOnlyField");
  }

  @Test
  void shouldRejectANestedTypeChangeNamingTheFieldPath() {
    // Given QuestionAsked v1 and a change of GenerationOptions.topK from int to string
    EventContract.Released v1 = EventContract.releasedSchemas().get("QuestionAsked").get(0);
    Schema changed =
        edit(
            EventContract.currentSchema("QuestionAsked"),
            root -> {
              var options = nonNullBranch(field(root, "generationOptions").get("type"));
              field(options, "topK").putArray("type").add("null").add("string");
            });

    // When the checker compares them
    List<String> problems =
        CompatibilityChecker.backwardProblems("QuestionAsked", changed, v1.schema(), v1.label());

    // Then the problem names the nested field, not just the union that holds its record
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0))
        .contains("MISSING_UNION_BRANCH")
        .contains("lacking writer type: INT")
        .contains("at field QuestionAsked.generationOptions.topK");
  }

  @Test
  void shouldRejectAnEnumSymbolRemovedFromAnEnumWithoutDefault() {
    // Given DeadLetter v1 and a change that drops ProcessingStage's default and a symbol
    EventContract.Released v1 = EventContract.releasedSchemas().get("DeadLetter").get(0);
    Schema changed =
        edit(
            EventContract.currentSchema("DeadLetter"),
            root -> {
              var stage = field(root, "stage");
              var enumType = (com.fasterxml.jackson.databind.node.ObjectNode) stage.get("type");
              enumType.remove("default");
              var symbols = enumType.putArray("symbols");
              for (String s : List.of("DESERIALIZE", "VALIDATE", "INFERENCE")) {
                symbols.add(s);
              }
              stage.remove("default");
            });

    // When the checker compares them
    List<String> problems =
        CompatibilityChecker.backwardProblems("DeadLetter", changed, v1.schema(), v1.label());

    // Then the missing symbols are reported on the stage field
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0))
        .contains("MISSING_ENUM_SYMBOLS")
        .contains("at field DeadLetter.stage");
  }

  @Test
  void shouldAcceptAnOptionalFieldAddedWithNullDefault() {
    // Given QuestionAsked v1 and a change that adds an optional field
    EventContract.Released v1 = EventContract.releasedSchemas().get("QuestionAsked").get(0);
    Schema changed =
        edit(
            EventContract.currentSchema("QuestionAsked"),
            root -> {
              var testOnlyField = root.withArray("fields").addObject().put("name", "testOnlyField");
              testOnlyField.putArray("type").add("null").add("string");
              testOnlyField.putNull("default");
              testOnlyField.put("doc", "A field added by this test only.");
            });

    // When / Then the checker finds nothing
    assertThat(
            CompatibilityChecker.backwardProblems(
                "QuestionAsked", changed, v1.schema(), v1.label()))
        .isEmpty();
  }
}
