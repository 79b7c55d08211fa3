package io.shoplens.processor.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShopLensCliTest {
  static final Path TINY = Path.of("src/test/resources/models/tiny-blip2-opt");

  record Run(int code, String out, String err) {}

  static Run run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = ShopLensCli.execute(args, env, new PrintWriter(out), new PrintWriter(err));
    return new Run(code, out.toString(), err.toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "--help",
        "run --help",
        "demo --help",
        "produce --help",
        "topics --help",
        "topics create --help",
        "model --help",
        "model info --help",
        "gateway --help",
        "replay --help",
        "dataset --help",
        "dataset build --help",
        "evaluate --help"
      })
  void shouldPrintHelpAndExitZeroForEveryCommand(String args) {
    Run r = run(Map.of(), args.split(" "));

    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("Usage: shoplens");
  }

  @Test
  void shouldExitTwoOnUnknownOptionsAndMissingCommands() {
    assertThat(run(Map.of(), "run", "--no-such-option").code()).isEqualTo(2);
    assertThat(run(Map.of()).code()).isEqualTo(2);
    assertThat(run(Map.of(), "produce", "--bootstrap", "x:9092").code()).isEqualTo(2);
  }

  @Test
  void shouldExitTwoNamingTheOptionWhenAGivenFileDoesNotExist(@TempDir Path dir) throws Exception {
    // Given files that do not exist, each given with one option
    Path missing = dir.resolve("missing.jsonl");
    Path products = Files.writeString(dir.resolve("products.jsonl"), "");
    String out = dir.resolve("dataset").toString();

    Run noProducts = run(Map.of(), "dataset", "build", "--products", missing.toString(), "-o", out);
    Run noCurated =
        run(
            Map.of(),
            "dataset",
            "build",
            "--products",
            products.toString(),
            "--curated",
            missing.toString(),
            "-o",
            out);
    Run noVocabulary =
        run(
            Map.of(),
            "evaluate",
            "--model",
            TINY.toString(),
            "--data",
            dir.toString(),
            "--vocabulary",
            missing.toString());

    // Then each exits 2 before doing anything, naming the option and the file
    assertThat(noProducts.code()).isEqualTo(2);
    assertThat(noProducts.err()).contains("--products " + missing + ": no such file");
    assertThat(noCurated.code()).isEqualTo(2);
    assertThat(noCurated.err()).contains("--curated " + missing + ": no such file");
    assertThat(noVocabulary.code()).isEqualTo(2);
    assertThat(noVocabulary.err()).contains("--vocabulary " + missing + ": no such file");
    assertThat(dir.resolve("dataset")).doesNotExist();
  }

  @Test
  void shouldExitTwoNamingTheFlagWhenProduceOptionsAreNotValidJsonOptions() {
    // Given caption options with a misspelt name, and question options that are not JSON
    Run misspelt =
        run(
            Map.of(),
            "produce",
            "--bootstrap",
            "127.0.0.1:1",
            "--registry",
            "http://127.0.0.1:1",
            "--image",
            "no-such-file.jpg",
            "--caption-options",
            "{\"num_beams\": 5}");
    Run notJson =
        run(
            Map.of(),
            "produce",
            "--bootstrap",
            "127.0.0.1:1",
            "--registry",
            "http://127.0.0.1:1",
            "--image",
            "no-such-file.jpg",
            "--options",
            "beam");

    // Then both exit 2 before reading the image, saying which flag and what was expected
    assertThat(misspelt.code()).isEqualTo(2);
    assertThat(misspelt.err())
        .contains("--caption-options: captionOptions has no option 'num_beams'; expected one of")
        .doesNotContain("no-such-file.jpg");
    assertThat(notJson.code()).isEqualTo(2);
    assertThat(notJson.err()).contains("--options: expected a JSON object such as");
  }

  @Test
  void shouldExitTwoWithOneLinePerConfigurationProblem(@TempDir Path dir) throws Exception {
    // Given a config file with two mistakes and a missing registry
    Path file = dir.resolve("bad.properties");
    Files.writeString(
        file,
        "bootstrap.servers=kafka:9092\nshoplens.model.path="
            + dir.resolve("missing")
            + "\nshoplens.inference.batch.max.size=-1\n");

    Run r = run(Map.of(), "run", "--config", file.toString());

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("invalid configuration (2 problems)")
        .contains("  - schema.registry.url: required, not set")
        .contains("  - shoplens.inference.batch.max.size:");
  }

  @Test
  void shouldValidateAndPrintTheConfigurationWithoutSecretsOnDryRun() {
    Map<String, String> env =
        Map.of(
            "SHOPLENS_BOOTSTRAP_SERVERS", "kafka:9092",
            "SHOPLENS_SCHEMA_REGISTRY_URL", "http://registry:8081",
            "SHOPLENS_MODEL_PATH", TINY.toString(),
            "KAFKA_SASL_JAAS_CONFIG", "PlainLoginModule required password=\"hunter2\";");

    Run r = run(env, "run", "--dry-run", "--set", "shoplens.http.port=9999");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("configuration is valid")
        .contains("shoplens.http.port=9999")
        .contains("bootstrap.servers=kafka:9092")
        .contains("sasl.jaas.config=[hidden]")
        .doesNotContain("hunter2");
  }

  @Test
  void shouldPrintTheManifestWithVerifiedChecksums() {
    Run r = run(Map.of(), "model", "info", TINY.toString());

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("shoplens/tiny-blip2-opt")
        .contains("10 query tokens")
        .contains("decoder.onnx")
        .contains("4 files")
        .contains("all verified");
  }

  @Test
  void shouldPrintAT5BundlesManifestWithItsEncoderAndDecoderAndVerifiedChecksums() {
    Run r = run(Map.of(), "model", "info", "src/test/resources/models/tiny-blip2-t5");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("shoplens/tiny-blip2-t5")
        .contains("architecture  blip2-t5 (float32), encoder-decoder")
        .contains("T5: 2 encoder + 2 decoder layers, hidden 16, 4 heads of 4, vocab 181")
        .contains("decoder start 0, eos 1, pad 0, image 180, stop [1, 155]")
        .contains("encoder.onnx")
        .contains("5 files")
        .contains("all verified")
        .contains("(float32 graph files)");
  }

  @Test
  void shouldPrintTheMemoryEstimateOfAFloat16Bundle() {
    Run r = run(Map.of(), "model", "info", "src/test/resources/models/tiny-blip2-opt-f16");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("(float16), format 2")
        .contains("memory        at least ")
        .contains("(float16 graph files)")
        .contains("engine defaults: batch 8")
        .containsPattern(
            "available .* \\((physical memory|cgroup limit) .*\\): (fits|does NOT fit).*");
  }

  @Test
  void shouldExitOneWhenABundleFileWasTamperedWith(@TempDir Path dir) throws Exception {
    // Given a copy of the bundle with one byte of the tokenizer changed
    for (String f : new String[] {"manifest.json", "vision.onnx", "embed.onnx", "decoder.onnx"}) {
      Files.copy(TINY.resolve(f), dir.resolve(f));
    }
    byte[] tokenizer = Files.readAllBytes(TINY.resolve("tokenizer.json"));
    tokenizer[10] ^= 1;
    Files.write(dir.resolve("tokenizer.json"), tokenizer);

    Run r = run(Map.of(), "model", "info", dir.toString());

    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("tokenizer.json").contains("sha256 mismatch");
  }
}
