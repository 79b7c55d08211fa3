package io.shoplens.processor.inference.t5;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.ModelBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a BLIP-2 T5 bundle, and the one clear start-up error for each kind of bad bundle. */
class T5BundleTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path temp;

  @Test
  void shouldLoadTheTinyT5BundleWithItsTokenIds() {
    T5Bundle bundle = T5Bundle.load(T5ParityTest.BUNDLE);

    T5Manifest m = bundle.manifest();
    assertThat(m.text().numLayers()).isEqualTo(2);
    assertThat(m.tokens().decoderStartTokenId()).isZero();
    assertThat(m.tokens().padTokenId()).isZero();
    assertThat(m.tokens().eosTokenId()).isEqualTo(1);
    assertThat(m.tokens().beamFillTokenId()).isEqualTo(1); // HF: pad_token_id or eos_token_id[0]
    assertThat(m.prompt().paddingSide()).isEqualTo("right");
  }

  @Test
  void shouldNameTheMissingEncoderGraph() throws IOException {
    Path dir = copy();
    Files.delete(dir.resolve("encoder.onnx"));

    assertThatThrownBy(() -> T5Bundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("encoder.onnx")
        .hasMessageContaining("missing");
  }

  @Test
  void shouldNameTheGraphWhoseChecksumDiffers() throws IOException {
    Path dir = copy();
    byte[] bytes = Files.readAllBytes(dir.resolve("decoder.onnx"));
    bytes[bytes.length / 2] ^= 1;
    Files.write(dir.resolve("decoder.onnx"), bytes);

    assertThatThrownBy(() -> T5Bundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("decoder.onnx")
        .hasMessageContaining("sha256 mismatch");
  }

  @Test
  void shouldNameTheGraphThatDisagreesWithTheManifestsDimensions() throws Exception {
    // Given a manifest whose hidden size is not the graphs' (checksums still match)
    Path dir = copy();
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    ((ObjectNode) manifest.get("text")).put("hidden_size", 32);
    Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(manifest));

    // When the graphs are opened, then the first graph that disagrees is named
    T5Bundle bundle = T5Bundle.load(dir);
    EngineConfig config = EngineConfig.builder().intraOpThreads(1).build();
    assertThatThrownBy(() -> T5Graphs.open(bundle, config).close())
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("vision.onnx")
        .hasMessageContaining("query_embeds")
        .hasMessageContaining("32");
  }

  @Test
  void shouldRefuseAnOptBundleAndAFloat16Manifest() throws Exception {
    assertThatThrownBy(() -> T5Bundle.load(Path.of("src/test/resources/models/tiny-blip2-opt")))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("architecture: expected blip2-t5, found blip2-opt");

    Path dir = copy();
    ObjectNode manifest = (ObjectNode) JSON.readTree(dir.resolve("manifest.json").toFile());
    manifest.put("dtype", "float16");
    Files.writeString(dir.resolve("manifest.json"), JSON.writeValueAsString(manifest));
    assertThatThrownBy(() -> T5Bundle.load(dir))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("dtype: expected float32");
  }

  @Test
  void shouldBeRefusedByTheOptLoaderWithItsArchitectureNamed() {
    assertThatThrownBy(() -> ModelBundle.load(T5ParityTest.BUNDLE))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("found blip2-t5");
  }

  private Path copy() throws IOException {
    Path dir = Files.createDirectories(temp.resolve("t5"));
    try (var files = Files.list(T5ParityTest.BUNDLE)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (!f.getFileName().toString().equals("reference.json")) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    }
    return dir;
  }
}
