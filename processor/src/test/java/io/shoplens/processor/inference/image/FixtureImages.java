package io.shoplens.processor.inference.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exporter's test fixtures, for any test that needs pixel values: images in {@code
 * src/test/resources/images/} and, in {@code models/tiny-blip2-opt/}, the bundle's manifest and
 * {@code reference.json} with Hugging Face's {@code pixel_values} per image.
 *
 * <p>Engine tests can feed {@link #preprocess(String)} to the vision graph to check that greedy
 * tokens are unchanged by whatever difference {@link ImageParityTest} measures.
 */
public final class FixtureImages {
  /** Bundle directory under the test resources. */
  public static final String BUNDLE = "models/tiny-blip2-opt";

  private static final ObjectMapper JSON = new ObjectMapper();

  private FixtureImages() {}

  /** Path of a test resource; fails naming the generator if the fixtures are missing. */
  public static Path resource(String relative) {
    URL url = FixtureImages.class.getClassLoader().getResource(relative);
    if (url == null) {
      throw new IllegalStateException(
          "missing test fixture "
              + relative
              + "; regenerate with: cd model-export && .venv/bin/python -m shoplens_export"
              + " fixtures --out ../processor/src/test/resources");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Raw bytes of {@code images/<name>}. */
  public static byte[] bytes(String name) {
    return read(resource("images/" + name));
  }

  /** The manifest's vision section as our configuration. */
  public static VisionPreprocessing visionConfig() {
    JsonNode v = json(resource(BUNDLE + "/manifest.json")).path("vision");
    return new VisionPreprocessing(
        v.path("image_size").asInt(),
        VisionPreprocessing.Resample.fromManifest(v.path("resample").asText(null)),
        v.path("do_rescale").asBoolean(),
        v.path("rescale_factor").asDouble(),
        v.path("do_normalize").asBoolean(),
        doubles(v.path("image_mean")),
        doubles(v.path("image_std")),
        v.path("do_convert_rgb").asBoolean());
  }

  /** Our pixel values ({@code float[3*S*S]}, CHW) for {@code images/<name>}. */
  public static float[] preprocess(String name) {
    return new ImagePreprocessor(visionConfig()).preprocess(bytes(name));
  }

  /** Hugging Face's pixel values per image name, from {@code reference.json} (flattened CHW). */
  public static Map<String, float[]> referencePixelValues() {
    JsonNode images = json(resource(BUNDLE + "/reference.json")).path("images");
    if (!images.isObject() || images.isEmpty()) {
      throw new IllegalStateException("reference.json has no \"images\" object");
    }
    Map<String, float[]> out = new LinkedHashMap<>();
    images
        .properties()
        .forEach(
            e -> {
              JsonNode values = e.getValue().path("pixel_values");
              float[] pv = new float[values.size()];
              for (int i = 0; i < pv.length; i++) {
                pv[i] = (float) values.get(i).asDouble();
              }
              out.put(e.getKey(), pv);
            });
    return out;
  }

  private static double[] doubles(JsonNode array) {
    double[] out = new double[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asDouble();
    }
    return out;
  }

  private static JsonNode json(Path path) {
    try {
      return JSON.readTree(path.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  private static byte[] read(Path path) {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }
}
