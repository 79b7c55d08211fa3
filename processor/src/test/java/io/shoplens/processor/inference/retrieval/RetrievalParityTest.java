package io.shoplens.processor.inference.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.inference.bundle.BundleException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tiny retrieval bundle against Hugging Face's {@code Blip2ForImageTextRetrieval} on the same
 * weights ({@code reference.json}, written by model-export): image and text features, ITC
 * similarities and ITM probabilities, every reference image and text, within 1e-5.
 */
class RetrievalParityTest {
  static final Path BUNDLE = Path.of("src/test/resources/models/tiny-blip2-retrieval");
  private static final double TOL = 1e-5;
  private static RetrievalModel model;
  private static JsonNode reference;
  private static List<String> imageNames;
  private static List<String> texts;

  @BeforeAll
  static void open() throws IOException {
    model =
        RetrievalModel.open(
            BUNDLE, EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build());
    reference = new ObjectMapper().readTree(BUNDLE.resolve("reference.json").toFile());
    imageNames = new ArrayList<>();
    reference.get("images").forEach(i -> imageNames.add(i.get("name").asText()));
    texts = new ArrayList<>();
    reference.get("texts").forEach(t -> texts.add(t.get("text").asText()));
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static List<RetrievalModel.EncodedImage> encodeReferenceImages() {
    // The generation fixture records Hugging Face's pixel values of the same images at the same
    // size and statistics; the image pipeline's own parity is tested in inference/image.
    List<float[]> pixels = new ArrayList<>();
    for (String name : imageNames) {
      pixels.add(TinyBundle.pixelValues(name));
    }
    return model.encodePixels(pixels);
  }

  @Test
  void shouldTokenizeEveryReferenceTextAsHuggingFaceIncludingTruncation() {
    for (JsonNode t : reference.get("texts")) {
      assertThat(model.tokenizer().encode(t.get("text").asText()))
          .as(t.get("text").asText())
          .containsExactly(TinyBundle.longs(t.get("input_ids")));
    }
  }

  @Test
  void shouldComputeImageFeaturesAsHuggingFaceForABatchOfImages() {
    List<RetrievalModel.EncodedImage> encoded = encodeReferenceImages();

    for (int i = 0; i < imageNames.size(); i++) {
      JsonNode expected = reference.get("images").get(i).get("image_features");
      float[] actual = encoded.get(i).features().vectors();
      assertThat(actual).hasSize(expected.size());
      for (int k = 0; k < actual.length; k++) {
        assertThat((double) actual[k])
            .as(imageNames.get(i) + "[" + k + "]")
            .isCloseTo(expected.get(k).asDouble(), within(TOL));
      }
    }
  }

  @Test
  void shouldComputeTextFeaturesAsHuggingFaceForAPaddedBatch() {
    List<float[]> features = model.textFeatures(texts);

    for (int t = 0; t < texts.size(); t++) {
      assertClose(
          features.get(t), reference.get("texts").get(t).get("text_features"), texts.get(t));
    }
  }

  @Test
  void shouldComputeTextFeaturesOneAtATimeAsInABatch() {
    List<float[]> batched = model.textFeatures(texts);

    for (int t = 0; t < texts.size(); t++) {
      float[] single = model.textFeatures(List.of(texts.get(t))).get(0);
      for (int d = 0; d < single.length; d++) {
        assertThat(single[d]).isCloseTo(batched.get(t)[d], within(1e-6f));
      }
    }
  }

  @Test
  void shouldScoreEveryImageTextPairByMaxOverQueriesAsHuggingFace() {
    List<RetrievalModel.EncodedImage> encoded = encodeReferenceImages();
    List<float[]> textFeatures = model.textFeatures(texts);

    for (int i = 0; i < imageNames.size(); i++) {
      for (int t = 0; t < texts.size(); t++) {
        double expected = reference.get("itc_similarity").get(i).get(t).asDouble();
        assertThat((double) encoded.get(i).features().similarity(textFeatures.get(t)))
            .as(imageNames.get(i) + " / " + texts.get(t))
            .isCloseTo(expected, within(TOL));
      }
    }
  }

  @Test
  void shouldGiveEveryPairTheMatchProbabilityOfHuggingFaceInOneBatch() {
    List<RetrievalModel.EncodedImage> encoded = encodeReferenceImages();
    List<RetrievalModel.Pair> pairs = new ArrayList<>();
    for (RetrievalModel.EncodedImage image : encoded) {
      for (String text : texts) {
        pairs.add(new RetrievalModel.Pair(image, text));
      }
    }

    float[] probabilities = model.matchProbabilities(pairs);

    for (int i = 0; i < imageNames.size(); i++) {
      for (int t = 0; t < texts.size(); t++) {
        double expected = reference.get("itm_probability").get(i).get(t).asDouble();
        assertThat((double) probabilities[i * texts.size() + t])
            .as(imageNames.get(i) + " / " + texts.get(t))
            .isCloseTo(expected, within(TOL));
      }
    }
  }

  @Test
  void shouldComputeImageFeaturesFromImageBytesThroughTheImagePipeline() {
    List<byte[]> bytes = new ArrayList<>();
    for (String name : imageNames) {
      bytes.add(TinyBundle.imageBytes(name));
    }

    List<RetrievalModel.EncodedImage> encoded = model.encodeImages(bytes);

    for (int i = 0; i < imageNames.size(); i++) {
      float[] norms = new float[encoded.get(i).features().numQueries()];
      for (int q = 0; q < norms.length; q++) {
        float[] v = encoded.get(i).features().query(q);
        double n = 0;
        for (float x : v) {
          n += x * x;
        }
        assertThat(Math.sqrt(n)).isCloseTo(1.0, within(1e-5));
      }
      assertClose(
          encoded.get(i).features().vectors(),
          reference.get("images").get(i).get("image_features"),
          imageNames.get(i));
    }
  }

  @Test
  void shouldRejectAGenerationBundleWithAMessageThatSaysWhatToExport() {
    assertThatThrownBy(() -> RetrievalBundle.load(TinyBundle.dir()))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("expected blip2-retrieval")
        .hasMessageContaining("--retrieval");
  }

  @Test
  void shouldRejectABundleWhoseGraphWasReplaced(@TempDir Path tmp) throws IOException {
    // Every file of the bundle, so that the replaced graph is the only thing wrong with it.
    try (var files = Files.list(BUNDLE)) {
      for (Path file : files.toList()) {
        Files.copy(file, tmp.resolve(file.getFileName()));
      }
    }
    Files.copy(
        BUNDLE.resolve("vision.onnx"),
        tmp.resolve("text.onnx"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);

    assertThatThrownBy(() -> RetrievalBundle.load(tmp))
        .isInstanceOf(BundleException.class)
        .hasMessageContaining("text.onnx");
  }

  private static void assertClose(float[] actual, JsonNode expected, String what) {
    assertThat(actual).hasSize(expected.size());
    for (int k = 0; k < actual.length; k++) {
      assertThat((double) actual[k])
          .as(what + "[" + k + "]")
          .isCloseTo(expected.get(k).asDouble(), within(TOL));
    }
  }
}
