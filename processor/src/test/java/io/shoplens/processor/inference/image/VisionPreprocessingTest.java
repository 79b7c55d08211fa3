package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.inference.image.VisionPreprocessing.Resample;
import org.junit.jupiter.api.Test;

class VisionPreprocessingTest {
  private static final double[] MEAN = VisionPreprocessing.OPENAI_CLIP_MEAN;
  private static final double[] STD = VisionPreprocessing.OPENAI_CLIP_STD;

  @Test
  void shouldAcceptTheManifestValues() {
    VisionPreprocessing v =
        new VisionPreprocessing(
            30, Resample.fromManifest("bicubic"), true, 0.00392156862745098, true, MEAN, STD, true);

    assertThat(v).isEqualTo(VisionPreprocessing.blipDefaults(30));
    assertThat(v.imageMean()).containsExactly(MEAN);
  }

  @Test
  void shouldRefuseAnUnknownResampleNamingTheChoices() {
    assertThatThrownBy(() -> Resample.fromManifest("lanczos"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"lanczos\"")
        .hasMessageContaining("BICUBIC");
  }

  @Test
  void shouldRefuseBadSizesAndChannelStatistics() {
    assertThatThrownBy(
            () ->
                new VisionPreprocessing(
                    0, Resample.BICUBIC, true, 1 / 255.0, true, MEAN, STD, true))
        .hasMessageContaining("image_size");
    assertThatThrownBy(
            () ->
                new VisionPreprocessing(
                    30,
                    Resample.BICUBIC,
                    true,
                    1 / 255.0,
                    true,
                    new double[] {0.5, 0.5},
                    STD,
                    true))
        .hasMessageContaining("image_mean must have 3 values");
    assertThatThrownBy(
            () ->
                new VisionPreprocessing(
                    30,
                    Resample.BICUBIC,
                    true,
                    1 / 255.0,
                    true,
                    MEAN,
                    new double[] {1, 0, 1},
                    true))
        .hasMessageContaining("image_std must be finite and positive");
    assertThatThrownBy(
            () -> new VisionPreprocessing(30, Resample.BICUBIC, true, -1, true, MEAN, STD, true))
        .hasMessageContaining("rescale_factor");
    assertThatThrownBy(
            () ->
                new VisionPreprocessing(
                    30, Resample.BICUBIC, true, 1 / 255.0, true, MEAN, STD, false))
        .hasMessageContaining("do_convert_rgb");
  }

  @Test
  void shouldCopyArraysSoCallersCannotChangeTheConfiguration() {
    double[] mean = MEAN.clone();
    VisionPreprocessing v =
        new VisionPreprocessing(30, Resample.BICUBIC, true, 1 / 255.0, true, mean, STD, true);

    mean[0] = 99;
    v.imageMean()[1] = 99;

    assertThat(v.imageMean()).containsExactly(MEAN);
  }
}
