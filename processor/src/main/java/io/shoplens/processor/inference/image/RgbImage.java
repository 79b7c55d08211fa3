package io.shoplens.processor.inference.image;

/**
 * An 8-bit RGB image, pixels interleaved row by row ({@code rgb[(y * width + x) * 3 + c]}), the
 * layout of {@code numpy.array(pil_image)} for a mode "RGB" image. The array is shared, not copied:
 * treat it as read-only once built.
 */
public record RgbImage(int width, int height, byte[] rgb) {

  public RgbImage {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException(
          "image dimensions must be positive, got " + width + "x" + height);
    }
    if (rgb == null || rgb.length != (long) width * height * 3) {
      throw new IllegalArgumentException(
          "expected "
              + ((long) width * height * 3)
              + " bytes for a "
              + width
              + "x"
              + height
              + " RGB image, got "
              + (rgb == null ? "null" : rgb.length));
    }
  }

  /** The channel value at (x, y), 0..255. */
  public int get(int x, int y, int channel) {
    return rgb[(y * width + x) * 3 + channel] & 0xFF;
  }
}
