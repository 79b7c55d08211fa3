package io.shoplens.processor.inference.image;

import io.shoplens.processor.inference.bundle.ModelManifest;
import java.util.Arrays;
import java.util.Locale;

/**
 * The manifest's {@code vision} section: how image pixels become {@code pixel_values}. Mirrors
 * Hugging Face's {@code BlipImageProcessor} options; validated here so that a bad manifest fails at
 * start-up, not on the first image.
 *
 * @param imageSize side of the square the image is resized to ({@code size.height == size.width})
 * @param resample resampling filter; only {@link Resample#BICUBIC} (BLIP's) is implemented
 * @param doRescale whether 8-bit values are multiplied by {@code rescaleFactor}
 * @param rescaleFactor usually {@code 1/255}
 * @param doNormalize whether {@code (x - mean) / std} is applied per channel
 * @param imageMean per-channel mean (R, G, B)
 * @param imageStd per-channel standard deviation (R, G, B), all positive
 * @param doConvertRgb must be true: the vision graph takes 3 channels whatever the source mode
 */
public record VisionPreprocessing(
    int imageSize,
    Resample resample,
    boolean doRescale,
    double rescaleFactor,
    boolean doNormalize,
    double[] imageMean,
    double[] imageStd,
    boolean doConvertRgb) {

  /** Largest side we accept; BLIP-2 uses 224 or 384. Guards against a typo allocating gigabytes. */
  public static final int MAX_IMAGE_SIZE = 4096;

  /** Resampling filters, by the names the manifest uses. */
  public enum Resample {
    /** Pillow's {@code Image.Resampling.BICUBIC}: Keys cubic, a = -0.5, antialiased. */
    BICUBIC;

    /** Parses the manifest's {@code resample} string ("bicubic"), case-insensitively. */
    public static Resample fromManifest(String name) {
      if (name == null) {
        throw new IllegalArgumentException("vision.resample is missing; expected \"bicubic\"");
      }
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unsupported vision.resample \""
                + name
                + "\"; expected one of "
                + Arrays.toString(values()),
            e);
      }
    }
  }

  /** CLIP's statistics, which BLIP and BLIP-2 use. */
  public static final double[] OPENAI_CLIP_MEAN = {0.48145466, 0.4578275, 0.40821073};

  public static final double[] OPENAI_CLIP_STD = {0.26862954, 0.26130258, 0.27577711};

  /**
   * The preprocessing a bundle's manifest describes (generation and retrieval bundles alike).
   *
   * @throws IllegalArgumentException if the section is out of range or unsupported
   */
  public static VisionPreprocessing of(ModelManifest.Vision v) {
    return new VisionPreprocessing(
        v.imageSize(),
        Resample.fromManifest(v.resample()),
        v.doRescale(),
        v.rescaleFactor(),
        v.doNormalize(),
        v.imageMean().stream().mapToDouble(Double::doubleValue).toArray(),
        v.imageStd().stream().mapToDouble(Double::doubleValue).toArray(),
        v.doConvertRgb());
  }

  public VisionPreprocessing {
    if (imageSize <= 0 || imageSize > MAX_IMAGE_SIZE) {
      throw new IllegalArgumentException(
          "vision.image_size must be in 1.." + MAX_IMAGE_SIZE + ", got " + imageSize);
    }
    if (resample == null) {
      throw new IllegalArgumentException("vision.resample is missing; expected BICUBIC");
    }
    if (doRescale && !(rescaleFactor > 0 && Double.isFinite(rescaleFactor))) {
      throw new IllegalArgumentException(
          "vision.rescale_factor must be positive and finite, got " + rescaleFactor);
    }
    imageMean = checkChannels("image_mean", imageMean, false);
    imageStd = checkChannels("image_std", imageStd, true);
    if (!doConvertRgb) {
      throw new IllegalArgumentException(
          "vision.do_convert_rgb=false is not supported: the vision graph takes 3 channels, and"
              + " grayscale, palette or RGBA sources must be converted as Hugging Face does");
    }
  }

  /** BLIP-2's processor defaults at the given size (bicubic, 1/255, CLIP mean/std). */
  public static VisionPreprocessing blipDefaults(int imageSize) {
    return new VisionPreprocessing(
        imageSize,
        Resample.BICUBIC,
        true,
        1 / 255.0,
        true,
        OPENAI_CLIP_MEAN,
        OPENAI_CLIP_STD,
        true);
  }

  @Override
  public double[] imageMean() {
    return imageMean.clone();
  }

  @Override
  public double[] imageStd() {
    return imageStd.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VisionPreprocessing v
        && imageSize == v.imageSize
        && resample == v.resample
        && doRescale == v.doRescale
        && Double.compare(rescaleFactor, v.rescaleFactor) == 0
        && doNormalize == v.doNormalize
        && Arrays.equals(imageMean, v.imageMean)
        && Arrays.equals(imageStd, v.imageStd)
        && doConvertRgb == v.doConvertRgb;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(imageMean) + Arrays.hashCode(imageStd) + imageSize;
  }

  @Override
  public String toString() {
    return "VisionPreprocessing[imageSize="
        + imageSize
        + ", resample="
        + resample
        + ", doRescale="
        + doRescale
        + ", rescaleFactor="
        + rescaleFactor
        + ", doNormalize="
        + doNormalize
        + ", imageMean="
        + Arrays.toString(imageMean)
        + ", imageStd="
        + Arrays.toString(imageStd)
        + ", doConvertRgb="
        + doConvertRgb
        + "]";
  }

  private static double[] checkChannels(String name, double[] values, boolean positive) {
    if (values == null || values.length != 3) {
      throw new IllegalArgumentException(
          "vision."
              + name
              + " must have 3 values (R, G, B), got "
              + (values == null ? "none" : Arrays.toString(values)));
    }
    for (double v : values) {
      if (!Double.isFinite(v) || (positive && v <= 0)) {
        throw new IllegalArgumentException(
            "vision."
                + name
                + " must be finite"
                + (positive ? " and positive" : "")
                + ", got "
                + Arrays.toString(values));
      }
    }
    return values.clone();
  }
}
