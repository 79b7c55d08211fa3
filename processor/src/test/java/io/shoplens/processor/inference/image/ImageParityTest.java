package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Our pixel values against Hugging Face's ({@code BlipImageProcessorPil}, transformers 5.17, Pillow
 * 12.3) for every fixture image.
 *
 * <p>Decoding, RGB conversion and Pillow's 8-bit bicubic are reproduced exactly, so the only
 * expected difference is the fixture's own rounding to 7 significant digits: at most 5e-7 for
 * values below 10 in magnitude (ours lie within about -1.8 .. 2.2), plus float32 representation.
 * The bound is 1e-6: a single 8-bit level anywhere would show as at least 0.014.
 */
class ImageParityTest {
  private static final double MAX_ABS_BOUND = 1e-6;
  private static final double MEAN_ABS_BOUND = 4e-7;

  @Test
  void shouldMatchHuggingFacePixelValuesForEveryFixtureImage() {
    // Given Hugging Face's pixel values and the manifest's vision settings
    Map<String, float[]> reference = FixtureImages.referencePixelValues();
    int length =
        3 * FixtureImages.visionConfig().imageSize() * FixtureImages.visionConfig().imageSize();
    assertThat(reference).isNotEmpty();

    for (Map.Entry<String, float[]> e : reference.entrySet()) {
      String name = e.getKey();
      float[] expected = e.getValue();

      // When
      float[] actual = FixtureImages.preprocess(name);

      // Then
      assertThat(expected).as("%s reference length", name).hasSize(length);
      assertThat(actual).as("%s length", name).hasSize(length);
      double max = 0;
      double sum = 0;
      int worst = 0;
      for (int i = 0; i < length; i++) {
        double d = Math.abs((double) actual[i] - expected[i]);
        sum += d;
        if (d > max) {
          max = d;
          worst = i;
        }
      }
      double mean = sum / length;
      System.out.printf(
          "pixel_values parity %-12s max |diff| = %.3e (at %d)  mean |diff| = %.3e%n",
          name, max, worst, mean);
      assertThat(max)
          .as("%s max |diff| (worst at index %d)", name, worst)
          .isLessThanOrEqualTo(MAX_ABS_BOUND);
      assertThat(mean).as("%s mean |diff|", name).isLessThanOrEqualTo(MEAN_ABS_BOUND);
    }
  }
}
