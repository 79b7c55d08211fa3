package io.shoplens.processor.inference.image;

import java.util.Objects;

/**
 * Image bytes to BLIP-2 {@code pixel_values}: a {@code float[3 * S * S]} in CHW order (one batch
 * row of {@code [B, 3, S, S]}), computed as Hugging Face's {@code BlipImageProcessor} (PIL backend,
 * transformers 5.17) does:
 *
 * <ol>
 *   <li>decode and {@code convert("RGB")} ({@link ImageDecoder}), after EXIF orientation;
 *   <li>bicubic resize to S x S in 8 bits, bit-exact with Pillow ({@link PillowBicubicResizer});
 *   <li>rescale: {@code float32(uint8 * rescale_factor)}, the product taken in double as numpy's
 *       {@code astype(float64) * scale} does;
 *   <li>normalise in float32: {@code (x - float32(mean)) / float32(std)}.
 * </ol>
 *
 * <p>Steps 3 and 4 depend only on the channel and the 8-bit value, so they are a 3 x 256 lookup
 * table: the output equals numpy's float32 arithmetic exactly, and costs one load per value.
 *
 * <p>Note on transformers' "fast" {@code BlipImageProcessor}: in 5.17 it is a torchvision backend,
 * and without torchvision installed transformers falls back to {@code BlipImageProcessorPil}, the
 * path reproduced here. The torchvision resize differs from Pillow's by a few 8-bit levels; if a
 * bundle is ever exported with it, parity bounds must be revisited.
 *
 * <p>Thread-safe and allocation-light: one instance serves all threads.
 */
public final class ImagePreprocessor {
  private final VisionPreprocessing config;
  private final ImageDecoder decoder;
  private final boolean applyExifOrientation;
  private final float[] lookup;

  /** Default pixel limit, EXIF orientation applied. */
  public ImagePreprocessor(VisionPreprocessing config) {
    this(config, new ImageDecoder(), true);
  }

  /**
   * @param config the manifest's vision section
   * @param decoder decoder carrying the pixel-count limit
   * @param applyExifOrientation true to rotate by the EXIF tag as viewers do (our default); false
   *     to do exactly what {@code BlipImageProcessor} does on an un-transposed PIL image
   */
  public ImagePreprocessor(
      VisionPreprocessing config, ImageDecoder decoder, boolean applyExifOrientation) {
    this.config = Objects.requireNonNull(config, "config");
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    this.applyExifOrientation = applyExifOrientation;
    this.lookup = buildLookup(config);
  }

  public VisionPreprocessing config() {
    return config;
  }

  /** Values per image: {@code 3 * imageSize * imageSize}. */
  public int pixelValuesLength() {
    return 3 * config.imageSize() * config.imageSize();
  }

  /**
   * Decodes and preprocesses one image.
   *
   * @return a new {@code float[3 * S * S]}, CHW
   * @throws ImageDecodeException for empty, unsupported, oversized or corrupt images
   */
  public float[] preprocess(byte[] imageBytes) {
    float[] out = new float[pixelValuesLength()];
    preprocessInto(imageBytes, out, 0);
    return out;
  }

  /**
   * Decodes and preprocesses one image into {@code dest[offset .. offset + 3*S*S)}, so a batch
   * tensor can be filled row by row without copies.
   */
  public void preprocessInto(byte[] imageBytes, float[] dest, int offset) {
    RgbImage image =
        applyExifOrientation
            ? decoder.decode(imageBytes)
            : decoder.decodeIgnoringOrientation(imageBytes);
    toPixelValues(image, dest, offset);
  }

  /** Resizes and normalises an already decoded image into {@code dest} at {@code offset}. */
  public void toPixelValues(RgbImage image, float[] dest, int offset) {
    int s = config.imageSize();
    int plane = s * s;
    Objects.checkFromIndexSize(offset, 3 * plane, dest.length);
    RgbImage resized = PillowBicubicResizer.resize(image, s, s);
    byte[] rgb = resized.rgb();
    for (int i = 0, p = 0; i < plane; i++, p += 3) {
      dest[offset + i] = lookup[rgb[p] & 0xFF];
      dest[offset + plane + i] = lookup[256 + (rgb[p + 1] & 0xFF)];
      dest[offset + 2 * plane + i] = lookup[512 + (rgb[p + 2] & 0xFF)];
    }
  }

  private static float[] buildLookup(VisionPreprocessing c) {
    double[] mean = c.imageMean();
    double[] std = c.imageStd();
    float[] table = new float[3 * 256];
    for (int ch = 0; ch < 3; ch++) {
      float m = (float) mean[ch];
      float sd = (float) std[ch];
      for (int v = 0; v < 256; v++) {
        float x = c.doRescale() ? (float) (v * c.rescaleFactor()) : (float) v;
        table[ch * 256 + v] = c.doNormalize() ? (x - m) / sd : x;
      }
    }
    return table;
  }
}
