package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {

  @Test
  void shouldRescaleAndNormaliseExactlyAsNumpyFloat32() {
    // Given a 1x1 image of value v in every channel, resized to 1x1 (no resampling)
    // Expected bits from numpy: ((uint8 v).astype(float64) * (1/255)).astype(float32),
    // then (x - float32(mean)) / float32(std), for v = 0, 128, 255.
    int[][] expectedBits = {
      {0xbfe568dc, 0xbfe044b8, 0xbfbd77d8},
      {0x3d9c5620, 0x3e2cf36b, 0x3eae0dc4},
      {0x3ff71541, 0x4004cae5, 0x40095660}
    };
    int[] values = {0, 128, 255};
    ImagePreprocessor preprocessor = new ImagePreprocessor(VisionPreprocessing.blipDefaults(1));

    for (int i = 0; i < values.length; i++) {
      byte v = (byte) values[i];
      float[] out = new float[3];

      // When
      preprocessor.toPixelValues(new RgbImage(1, 1, new byte[] {v, v, v}), out, 0);

      // Then
      for (int c = 0; c < 3; c++) {
        assertThat(Integer.toHexString(Float.floatToRawIntBits(out[c])))
            .as("value %d channel %d", values[i], c)
            .isEqualTo(Integer.toHexString(expectedBits[i][c]));
      }
    }
  }

  @Test
  void shouldLayOutChannelsFirstAndFillAtAnOffset() {
    // Given a 2x2 red image and a batch buffer with room for two images
    BufferedImage red = new BufferedImage(2, 2, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 2; x++) {
        red.setRGB(x, y, 0xFF0000);
      }
    }
    ImagePreprocessor preprocessor = new ImagePreprocessor(VisionPreprocessing.blipDefaults(2));
    float[] batch = new float[2 * preprocessor.pixelValuesLength()];

    // When it fills the second row of the batch
    preprocessor.preprocessInto(TestImages.encode(red, "png"), batch, 12);

    // Then the first row is untouched and the second holds R plane, G plane, B plane
    assertThat(java.util.Arrays.copyOf(batch, 12)).containsOnly(0f);
    float redMax = (1f - 0.48145466f) / 0.26862954f;
    float greenZero = (0f - 0.4578275f) / 0.26130258f;
    assertThat(batch[12]).isCloseTo(redMax, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(batch[15]).isCloseTo(redMax, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(batch[16]).isCloseTo(greenZero, org.assertj.core.data.Offset.offset(1e-6f));
  }

  @Test
  void shouldRefuseABufferTooSmallForTheImage() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(VisionPreprocessing.blipDefaults(4));
    RgbImage image = new RgbImage(1, 1, new byte[3]);

    assertThatThrownBy(() -> preprocessor.toPixelValues(image, new float[48], 1))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void shouldPropagateTypedDecodeErrors() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(VisionPreprocessing.blipDefaults(4));

    assertThatThrownBy(() -> preprocessor.preprocess(new byte[] {1, 2, 3}))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.UNSUPPORTED_FORMAT));
  }
}
