package io.shoplens.bench;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/** Uploads for the load-generating programs: deterministic, and a different image per seed. */
final class SyntheticImages {
  private SyntheticImages() {}

  /**
   * A square PNG of deterministic noise over a gradient, different for every seed (so that the
   * vision cache sees distinct images unless a seed comes back).
   */
  static byte[] png(int seed, int size) {
    SplittableRandom random = new SplittableRandom(seed);
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int r = (x * 2 + random.nextInt(32)) & 0xFF;
        int g = (y * 2 + random.nextInt(32)) & 0xFF;
        int b = (seed * 37 + random.nextInt(32)) & 0xFF;
        img.setRGB(x, y, (r << 16) | (g << 8) | b);
      }
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ImageIO.write(img, "png", out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
