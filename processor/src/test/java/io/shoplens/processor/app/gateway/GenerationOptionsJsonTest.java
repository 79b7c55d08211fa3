package io.shoplens.processor.app.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.events.DecodingStrategy;
import io.shoplens.events.GenerationOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A question's {@code generationOptions} JSON read into the Avro record, types checked. */
class GenerationOptionsJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldReadEveryOptionOfTheSchemaUnderItsOwnName() throws Exception {
    JsonNode node =
        JSON.readTree(
            """
            {"strategy": "Beam", "maxNewTokens": 12, "minNewTokens": 2, "numBeams": 3,
             "lengthPenalty": 0.5, "earlyStopping": true, "numReturnSequences": 2,
             "temperature": 0.7, "topK": 20, "topP": 0.9, "seed": 12345678901}
            """);

    GenerationOptions o = GenerationOptionsJson.parse(node);

    assertThat(o)
        .isEqualTo(
            GenerationOptions.newBuilder()
                .setStrategy(DecodingStrategy.BEAM)
                .setMaxNewTokens(12)
                .setMinNewTokens(2)
                .setNumBeams(3)
                .setLengthPenalty(0.5)
                .setEarlyStopping(true)
                .setNumReturnSequences(2)
                .setTemperature(0.7)
                .setTopK(20)
                .setTopP(0.9)
                .setSeed(12345678901L)
                .build());
    assertThat(GenerationOptionsJson.names())
        .hasSize(GenerationOptions.getClassSchema().getFields().size());
  }

  @Test
  void shouldLeaveAbsentAndNullOptionsUnsetAndReadNoOptionsAsNull() throws Exception {
    GenerationOptions o =
        GenerationOptionsJson.parse(JSON.readTree("{\"strategy\": \"sample\", \"topK\": null}"));

    assertThat(o.getStrategy()).isEqualTo(DecodingStrategy.SAMPLE);
    assertThat(o.getTopK()).isNull();
    assertThat(o.getTemperature()).isNull();
    assertThat(GenerationOptionsJson.parse(null)).isNull();
    assertThat(GenerationOptionsJson.parse(JSON.readTree("null"))).isNull();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "{\"top_k\": 5}|has no option 'top_k'; expected one of strategy, maxNewTokens",
        "{\"strategy\": \"nucleus\"}|strategy: expected one of greedy, beam, sample, got \"nucleus\"",
        "{\"strategy\": \"unknown\"}|strategy: expected one of greedy, beam, sample, got \"unknown\"",
        "{\"strategy\": 1}|strategy: expected one of greedy, beam, sample, got 1",
        "{\"maxNewTokens\": 2.5}|maxNewTokens: expected a 32-bit integer, got 2.5",
        "{\"maxNewTokens\": \"10\"}|maxNewTokens: expected a 32-bit integer, got \"10\"",
        "{\"numBeams\": 3000000000}|numBeams: expected a 32-bit integer, got 3000000000",
        "{\"temperature\": \"hot\"}|temperature: expected a number, got \"hot\"",
        "{\"earlyStopping\": \"yes\"}|earlyStopping: expected true or false, got \"yes\"",
        "{\"seed\": 1.5}|seed: expected a 64-bit integer, got 1.5",
        "[1, 2]|generationOptions must be a JSON object, got [1,2]",
      })
  void shouldRefuseUnknownNamesAndWrongTypesSayingWhatWasExpected(String json, String message)
      throws Exception {
    assertThatThrownBy(() -> GenerationOptionsJson.parse(JSON.readTree(json)))
        .isInstanceOfSatisfying(
            ApiError.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.code()).isEqualTo("invalid_generation_options");
            })
        .hasMessageContaining(message);
  }
}
