package io.shoplens.processor.inference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The committed tiny BLIP-2 OPT bundle (random weights) and the Hugging Face outputs recorded for
 * it by model-export ({@code reference.json}).
 */
public final class TinyBundle {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode reference;

  private TinyBundle() {}

  /** The bundle directory (override with -Dshoplens.test.bundle=DIR). */
  public static Path dir() {
    return Path.of(
        System.getProperty("shoplens.test.bundle", "src/test/resources/models/tiny-blip2-opt"));
  }

  /** The fixture images directory, next to models/. */
  public static Path images() {
    return dir().getParent().getParent().resolve("images");
  }

  /** reference.json, parsed once. */
  public static synchronized JsonNode reference() {
    if (reference == null) {
      try {
        reference = JSON.readTree(dir().resolve("reference.json").toFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return reference;
  }

  /** A reference case by name. */
  public static JsonNode referenceCase(String name) {
    for (JsonNode c : reference().get("cases")) {
      if (c.get("name").asText().equals(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("no reference case " + name);
  }

  /** All reference cases. */
  public static List<JsonNode> cases() {
    List<JsonNode> out = new ArrayList<>();
    reference().get("cases").forEach(out::add);
    return out;
  }

  /** Hugging Face's pixel_values for a fixture image. */
  public static float[] pixelValues(String image) {
    JsonNode values = reference().get("images").get(image).get("pixel_values");
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) values.get(i).asDouble();
    }
    return out;
  }

  /** A fixture image's bytes. */
  public static byte[] imageBytes(String image) {
    try {
      return Files.readAllBytes(images().resolve(image));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  /** Copies the bundle (without reference.json) into {@code target} for tests that damage it. */
  public static Path copyTo(Path target) {
    try {
      Files.createDirectories(target);
      try (var files = Files.list(dir())) {
        for (Path f : (Iterable<Path>) files::iterator) {
          if (!f.getFileName().toString().equals("reference.json")) {
            Files.copy(f, target.resolve(f.getFileName()));
          }
        }
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
