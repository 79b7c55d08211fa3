package io.shoplens.processor.inference.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.processor.inference.TinyBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelBundleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;

  @Test
  void shouldLoadTheTinyBundleWithItsDimensions() {
    ModelBundle bundle = ModelBundle.load(TinyBundle.dir());

    ModelManifest m = bundle.manifest();
    assertThat(m.formatVersion()).isEqualTo(2);
    assertThat(m.architecture()).isEqualTo("blip2-opt");
    assertThat(m.modelVersion()).isEqualTo(TinyBundle.reference().get("model_version").asText());
    assertThat(m.text().numHeads() * m.text().headDim()).isEqualTo(m.text().hiddenSize());
    assertThat(m.tokens().stopTokenIds()).contains(m.tokens().eosTokenId());
    assertThat(m.files()).containsKeys(ModelBundle.REQUIRED_FILES.toArray(new String[0]));
  }

  @Test
  void shouldNameTheDirectoryWhenTheBundleIsMissing() {
    Path missing = temp.resolve("nope");

    assertThatThrownBy(() -> ModelBundle.load(missing))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("expected a model bundle directory");
  }

  @Test
  void shouldNameTheManifestWhenItIsMissing() throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    Files.delete(dir.resolve("manifest.json"));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("manifest.json")
        .hasMessageContaining("no such file");
  }

  @Test
  void shouldRejectAManifestThatIsNotJson() throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    Files.writeString(dir.resolve("manifest.json"), "{\"format_version\": 1,");

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("manifest.json")
        .hasMessageContaining("expected valid JSON");
  }

  @Test
  void shouldRejectAnotherFormatVersionSayingWhichWasExpected() throws IOException {
    Path dir = withManifest(m -> m.put("format_version", 3));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("format_version: expected 2, found 3");
  }

  @Test
  void givenAFormat1BundleWhenLoadedThenItIsRefusedWithHowToReExport() throws IOException {
    // Given a bundle of format 1, whose decoder returned logits for every position
    Path dir = withManifest(m -> m.put("format_version", 1));

    // When it is loaded, Then the message names the format and how to re-export
    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("format_version: expected 2, found 1")
        .hasMessageContaining("re-export the bundle")
        .hasMessageContaining("python -m shoplens_export export");
  }

  @Test
  void givenAFloat16BundleWhenLoadedThenItsDtypeIsFloat16() {
    ModelBundle bundle = ModelBundle.load(Path.of("src/test/resources/models/tiny-blip2-opt-f16"));

    assertThat(bundle.manifest().dtype()).isEqualTo(Dtype.FLOAT16);
    assertThat(bundle.manifest().dtype().bytes()).isEqualTo(2);
  }

  @Test
  void givenAnUnknownDtypeWhenLoadedThenItIsRefusedNamingTheKnownOnes() throws IOException {
    Path dir = withManifest(m -> m.put("dtype", "bfloat16"));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("dtype: expected one of [float32, float16], found bfloat16");
  }

  @Test
  void shouldNameAMissingRequiredField() throws IOException {
    Path dir = withManifest(m -> ((ObjectNode) m.get("text")).remove("hidden_size"));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("missing required field 'text.hidden_size'");
  }

  @Test
  void shouldRejectHeadsThatDoNotDivideTheHiddenSize() throws IOException {
    Path dir = withManifest(m -> ((ObjectNode) m.get("text")).put("head_dim", 5));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("num_heads * head_dim == hidden_size");
  }

  @Test
  void shouldRejectATokenIdOutsideTheVocabulary() throws IOException {
    Path dir = withManifest(m -> ((ObjectNode) m.get("tokens")).put("image_token_id", 100000));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("tokens.image_token_id: expected an id in [0, ")
        .hasMessageContaining("found 100000");
  }

  @Test
  void shouldRejectAFileNameThatLeavesTheBundle() throws IOException {
    Path dir =
        withManifest(
            m -> {
              ObjectNode files = (ObjectNode) m.get("files");
              files.set("../evil.onnx", files.get("vision.onnx"));
            });

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("plain file names")
        .hasMessageContaining("../evil.onnx");
  }

  @Test
  void shouldRequireEveryGraphToBeListed() throws IOException {
    Path dir = withManifest(m -> ((ObjectNode) m.get("files")).remove("decoder.onnx"));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("expected an entry for decoder.onnx");
  }

  @Test
  void shouldNameAListedFileThatIsMissing() throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    Files.delete(dir.resolve("embed.onnx"));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("embed.onnx")
        .hasMessageContaining("listed in manifest.json but missing");
  }

  @Test
  void shouldDetectATruncatedFileBySize() throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    byte[] bytes = Files.readAllBytes(dir.resolve("decoder.onnx"));
    Files.write(dir.resolve("decoder.onnx"), java.util.Arrays.copyOf(bytes, bytes.length / 2));

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("decoder.onnx")
        .hasMessageContaining("size mismatch: manifest.json lists " + bytes.length + " bytes");
  }

  @Test
  void shouldDetectACorruptFileBySha256() throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    Path vision = dir.resolve("vision.onnx");
    byte[] bytes = Files.readAllBytes(vision);
    bytes[bytes.length / 2] ^= 0x5A;
    Files.write(vision, bytes);
    String listed =
        ModelBundle.load(TinyBundle.dir()).manifest().files().get("vision.onnx").sha256();

    assertThatThrownBy(() -> ModelBundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("vision.onnx")
        .hasMessageContaining("sha256 mismatch: manifest.json lists " + listed + ", found ");
  }

  private Path withManifest(Consumer<ObjectNode> change) throws IOException {
    Path dir = TinyBundle.copyTo(temp.resolve("b"));
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    change.accept(manifest);
    JSON.writeValue(dir.resolve("manifest.json").toFile(), manifest);
    return dir;
  }
}
