package io.shoplens.processor.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.app.cli.ShopLensCli;
import io.shoplens.processor.inference.Blip2Model;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.TinyBundle;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java engine on a bundle exported through the user's path ({@code export --checkpoint}) from a
 * checkpoint laid out like {@code Salesforce/blip2-opt-2.7b}: its config, processor and tokenizer
 * files (GPT-2's byte-level BPE, {@code <image>} = 50265, 50304 embedding rows), full widths (ViT-g
 * 1408, Q-Former 768 with 32 queries, OPT 2560 x 32 heads), random weights and 1-2 layers per
 * stack. Greedy tokens must equal Hugging Face {@code generate()} on that checkpoint, batched as it
 * ran them and each request alone; {@code shoplens model info} must describe it.
 *
 * <p>The fixture is 3.3 GB and is built, not committed: {@code scripts/test-all} builds it into
 * {@code build/salesforce-shaped} before Maven (model-export's {@code salesforce-shaped} command).
 * When it is missing this test fails and names the command; it is never skipped.
 *
 * <p>The float32 bundle is exported with {@code --external-data}: every graph's weights sit in
 * {@code <graph>.onnx.data}, as the real checkpoint's graphs over 2 GB have them.
 *
 * <p>Parameterised by bundle dtype: each dtype reads {@code bundle-<dtype>/} and its {@code
 * reference.json} (Hugging Face in that dtype: the float16 reference is PyTorch float16 on the CPU,
 * which Python ONNX Runtime on the float16 bundle matches row for row).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SalesforceShapedBundleIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BUILD_COMMAND =
      "(cd model-export && .venv/bin/python -m shoplens_export salesforce-shaped"
          + " --out ../build/salesforce-shaped --dtypes float32,float16)";

  private final Map<String, Blip2Model> models = new ConcurrentHashMap<>();
  private final Map<String, JsonNode> references = new ConcurrentHashMap<>();

  /** The fixture directory (override with -Dshoplens.salesforce-shaped=DIR). */
  static Path fixture() {
    return Path.of(System.getProperty("shoplens.salesforce-shaped", "../build/salesforce-shaped"));
  }

  /** The bundle dtypes under test; each needs {@code bundle-<dtype>/reference.json}. */
  static Stream<String> dtypes() {
    return Stream.of("float32", "float16");
  }

  static Path bundle(String dtype) {
    Path dir = fixture().resolve("bundle-" + dtype);
    if (!Files.isRegularFile(dir.resolve("manifest.json"))
        || !Files.isRegularFile(dir.resolve("reference.json"))) {
      fail(
          "the Salesforce-shaped "
              + dtype
              + " bundle is missing: expected "
              + dir.toAbsolutePath().normalize()
              + " with manifest.json and reference.json. Build it from the repository root with "
              + BUILD_COMMAND
              + " (scripts/test-all does this before Maven: 1.5 to 5 minutes on 2 cores, 3.3 GB)");
    }
    return dir;
  }

  private Blip2Model model(String dtype) {
    return models.computeIfAbsent(
        dtype,
        d ->
            Blip2Model.open(
                bundle(d), EngineConfig.builder().intraOpThreads(2).interOpThreads(1).build()));
  }

  private JsonNode reference(String dtype) {
    return references.computeIfAbsent(
        dtype,
        d -> {
          try {
            return JSON.readTree(bundle(d).resolve("reference.json").toFile());
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  @AfterAll
  void close() {
    models.values().forEach(Blip2Model::close);
  }

  static Stream<Arguments> cases() {
    return dtypes()
        .flatMap(
            dtype -> {
              JsonNode ref;
              try {
                ref = JSON.readTree(bundle(dtype).resolve("reference.json").toFile());
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
              List<Arguments> out = new ArrayList<>();
              ref.get("cases").forEach(c -> out.add(Arguments.of(dtype, c.get("name").asText())));
              return out.stream();
            });
  }

  @ParameterizedTest(name = "{0} {1}: prompt ids as Hugging Face's processor")
  @MethodSource("cases")
  void shouldBuildTheSamePromptIdsAsHuggingFacesProcessor(String dtype, String name) {
    // Given the case's requests (prompt text, no ids)
    JsonNode c = referenceCase(dtype, name);
    List<GenerationRequest> requests = requests(dtype, c);

    for (int i = 0; i < requests.size(); i++) {
      // When the engine tokenizes and lays out the prompt with the bundle's tokenizer.json
      long[] ids = model(dtype).prepare(requests.get(i)).promptIds();

      // Then it has the processor's ids: 32 <image> tokens, </s>, GPT-2 BPE of the text
      assertThat(ids).as(name + " row " + i).containsExactly(unpadded(c, i));
    }
  }

  @ParameterizedTest(name = "{0} {1}: batched as Hugging Face ran it")
  @MethodSource("cases")
  void shouldGenerateHuggingFacesGreedyTokensBatched(String dtype, String name) {
    JsonNode c = referenceCase(dtype, name);

    List<GenerationResult> results = model(dtype).generate(requests(dtype, c));

    assertTokens(dtype, c, results, "new_tokens");
  }

  @ParameterizedTest(name = "{0} {1}: each request alone")
  @MethodSource("cases")
  void shouldGenerateHuggingFacesGreedyTokensOneRequestAtATime(String dtype, String name) {
    JsonNode c = referenceCase(dtype, name);
    List<GenerationResult> results = new ArrayList<>();

    for (GenerationRequest r : requests(dtype, c)) {
      results.addAll(model(dtype).generate(List.of(r)));
    }

    assertTokens(dtype, c, results, "alone_new_tokens");
  }

  @ParameterizedTest(name = "{0}: shoplens model info")
  @MethodSource("dtypes")
  void shouldDescribeTheBundleWithModelInfo(String dtype) {
    // Given the exported bundle
    Path dir = bundle(dtype);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    // When the user runs `shoplens model info <bundle>`
    int code =
        ShopLensCli.execute(
            new String[] {"model", "info", dir.toString()},
            Map.of(),
            new PrintWriter(out),
            new PrintWriter(err));

    // Then it verifies every file and shows the Salesforce shapes
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString())
        .contains("architecture  blip2-opt (" + dtype + "), format 2")
        .contains("vision        224x224 bicubic, 32 query tokens")
        .contains(
            "language      1 layers, hidden "
                + hiddenSize()
                + ", 32 heads, vocab 50304, 2048 positions")
        .contains("tokens        bos 2, eos 50118, pad 1, image 50265, stop [50118]")
        .contains("all verified");
  }

  /** The OPT width of the fixture's checkpoint: 2560 (blip2-opt-2.7b) or 4096 (-6.7b). */
  private static int hiddenSize() {
    try {
      return JSON.readTree(fixture().resolve("checkpoint").resolve("config.json").toFile())
          .get("text_config")
          .get("hidden_size")
          .asInt();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private JsonNode referenceCase(String dtype, String name) {
    for (JsonNode c : reference(dtype).get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no reference case " + name);
  }

  private List<GenerationRequest> requests(String dtype, JsonNode c) {
    JsonNode images = reference(dtype).get("images");
    int maxNew = c.get("generation").get("max_new_tokens").asInt();
    List<GenerationRequest> out = new ArrayList<>();
    for (int i = 0; i < c.get("images").size(); i++) {
      JsonNode prompt = c.get("prompts").get(i);
      out.add(
          GenerationRequest.ofPixels(
              c.get("name").asText() + "-" + i,
              floats(images.get(c.get("images").get(i).asText()).get("pixel_values")),
              prompt.isNull() ? null : prompt.asText(),
              null,
              List.of(),
              DecodingOptions.greedy().withMaxNewTokens(maxNew),
              0));
    }
    return out;
  }

  private void assertTokens(
      String dtype, JsonNode c, List<GenerationResult> results, String field) {
    Set<Long> stops =
        model(dtype).manifest().tokens().stopTokenIds().stream()
            .map(Integer::longValue)
            .collect(Collectors.toSet());
    JsonNode expected = c.get(field);
    assertThat(results).as(c.get("name").asText()).hasSize(expected.size());
    for (int row = 0; row < expected.size(); row++) {
      long[] hf = untilStop(TinyBundle.longs(expected.get(row)), stops);
      String where = dtype + " " + c.get("name").asText() + " " + field + " row " + row;
      assertThat(results.get(row).tokenIds()).as(where).containsExactly(hf);
      assertThat(results.get(row).text())
          .as(where)
          .isEqualTo(c.get("text").get(row).asText().strip());
    }
  }

  private static long[] unpadded(JsonNode c, int row) {
    long[] ids = TinyBundle.longs(c.get("input_ids").get(row));
    JsonNode mask = c.get("attention_mask").get(row);
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < ids.length; i++) {
      if (mask.get(i).asInt() == 1) {
        out.add(ids[i]);
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }

  /** Hugging Face pads finished rows; the engine's sequences end at the first stop token. */
  private static long[] untilStop(long[] tokens, Set<Long> stops) {
    for (int i = 0; i < tokens.length; i++) {
      if (stops.contains(tokens[i])) {
        return Arrays.copyOf(tokens, i + 1);
      }
    }
    return tokens;
  }

  private static float[] floats(JsonNode values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values.get(i).asDouble();
    }
    return out;
  }
}
