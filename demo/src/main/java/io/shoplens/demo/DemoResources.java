package io.shoplens.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The demo's model and images, packaged in the jar under {@value #ROOT} (processor/pom.xml copies
 * the test fixtures there): the tiny BLIP-2 bundle with random weights, and sample images.
 */
public final class DemoResources {
  /** Classpath folder of the demo's resources. */
  public static final String ROOT = "shoplens/demo/";

  /** Files of the tiny bundle. */
  public static final List<String> MODEL_FILES =
      List.of("manifest.json", "vision.onnx", "embed.onnx", "decoder.onnx", "tokenizer.json");

  private DemoResources() {}

  /**
   * Copies the tiny bundle out of the jar (ONNX Runtime opens files, not classpath resources).
   *
   * @param dir an empty directory
   * @return the bundle directory
   */
  public static Path extractModel(Path dir) {
    Path bundle = dir.resolve("tiny-blip2-opt");
    try {
      Files.createDirectories(bundle);
      for (String name : MODEL_FILES) {
        try (InputStream in = open("models/tiny-blip2-opt/" + name)) {
          Files.copy(in, bundle.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the demo model to " + bundle, e);
    }
    return bundle;
  }

  /** A sample image's bytes, e.g. {@code photo.jpg}. */
  public static byte[] image(String name) {
    try (InputStream in = open("images/" + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read demo image " + name, e);
    }
  }

  private static InputStream open(String path) {
    InputStream in = DemoResources.class.getClassLoader().getResourceAsStream(ROOT + path);
    if (in == null) {
      throw new IllegalStateException(
          "demo resource "
              + ROOT
              + path
              + " is missing from the classpath (build the jar with ./mvnw package)");
    }
    return in;
  }
}
