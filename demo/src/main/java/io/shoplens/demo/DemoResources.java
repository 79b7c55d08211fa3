package io.shoplens.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The demo's model and images, packaged in the jar under {@value #ROOT} (demo/pom.xml copies them
 * there): the trained demo model ({@code models/fashion-blip2-opt}) and, when present, the trained
 * retrieval model ({@code models/fashion-blip2-retrieval}), their held-out products (the catalog
 * and photos of {@link DemoCatalog}) and a few sample images.
 */
public final class DemoResources {
  /** Classpath folder of the demo's resources. */
  public static final String ROOT = "shoplens/demo/";

  /** The bundled model's directory name. */
  public static final String MODEL = "fashion-blip2-opt";

  /** The bundled retrieval model's directory name (image-text search, related products). */
  public static final String RETRIEVAL_MODEL = "fashion-blip2-retrieval";

  private DemoResources() {}

  /**
   * Copies the bundled model out of the jar (ONNX Runtime opens files, not classpath resources).
   *
   * @param dir an empty directory
   * @return the bundle directory
   */
  public static Path extractModel(Path dir) {
    return extract(dir, MODEL);
  }

  /**
   * Copies the bundled retrieval model out of the jar, when the jar has one.
   *
   * @param dir an empty directory
   * @return the bundle directory, or empty when the jar was built without it
   */
  public static Optional<Path> extractRetrievalModel(Path dir) {
    if (!hasRetrievalModel()) {
      return Optional.empty();
    }
    return Optional.of(extract(dir, RETRIEVAL_MODEL));
  }

  /** Whether the jar carries the retrieval model (it does when models/ held it at build time). */
  public static boolean hasRetrievalModel() {
    return DemoResources.class
            .getClassLoader()
            .getResource(ROOT + "models/" + RETRIEVAL_MODEL + "/manifest.json")
        != null;
  }

  /**
   * Copies a bundle's manifest and every file it lists: the manifest, not a list kept here, says
   * what a bundle holds (a re-export may add a graph, as image_features.onnx was).
   */
  private static Path extract(Path dir, String model) {
    Path bundle = dir.resolve(model);
    try {
      Files.createDirectories(bundle);
      List<String> files = new ArrayList<>(List.of("manifest.json"));
      try (InputStream in = open("models/" + model + "/manifest.json")) {
        new ObjectMapper().readTree(in).path("files").fieldNames().forEachRemaining(files::add);
      }
      for (String name : files) {
        try (InputStream in = open("models/" + model + "/" + name)) {
          Files.copy(in, bundle.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the demo model " + model + " to " + bundle, e);
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

  /** A held-out product image's bytes, e.g. {@code p00005.png}. */
  public static byte[] catalogImage(String name) {
    return catalogFile("catalog/images/" + name);
  }

  static byte[] catalogFile(String path) {
    try (InputStream in = open(path)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read demo resource " + path, e);
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
