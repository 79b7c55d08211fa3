package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Expected bytes were produced by Pillow 12.3.0 ({@code Image.resize(size, Image.BICUBIC)}) on the
 * same synthetic image, built by this Python expression for each (x, y): {@code [(x*37 + y*11) %
 * 256, (x*x*5 + y*53) % 256, 255 if (x + y) % 2 else 0]}.
 */
class PillowBicubicResizerTest {

  @ParameterizedTest(name = "{0}x{1} -> {2}x{3}")
  @CsvSource(
      delimiter = ';',
      value = {
        // downscale in both directions: antialiased kernel wider than 4 taps
        "7;5;3;2;36,48,126,120,100,128,207,164,126,62,173,126,148,151,128,196,104,126",
        // upscale in both directions: overshoot clipped to 0 and 255
        "4;3;9;7;0,0,0,3,0,14,19,0,182,38,1,255,55,6,128,71,14,0,90,26,73,106,37,241,113,42,255,"
            + "1,5,26,5,5,52,21,7,164,40,11,227,57,16,128,73,24,28,92,36,91,108,47,203,115,52,"
            + "229,4,26,160,9,26,152,25,28,116,44,32,96,61,37,128,77,45,159,96,57,139,112,68,"
            + "103,119,73,95,8,53,255,15,53,223,31,55,82,50,59,2,67,64,128,83,72,253,102,84,173,"
            + "118,95,32,125,100,0,13,80,160,21,80,152,37,82,116,56,86,96,73,91,128,89,99,159,"
            + "108,111,139,124,122,103,131,127,95,18,101,26,25,101,52,41,103,164,60,107,227,77,"
            + "112,128,93,120,28,112,132,91,128,143,203,135,148,229,20,111,0,27,111,14,43,113,"
            + "182,62,117,255,79,122,128,95,130,0,114,142,73,130,153,241,137,158,255",
        // more than 100 times taller than wide: Pillow resizes vertically first
        "1;150;1;7;112,120,126,131,124,128,126,126,128,125,127,127,133,126,127,129,126,127,122,"
            + "134,129",
        // horizontal pass only (height unchanged)
        "13;2;5;2;32,5,112,133,59,129,143,172,129,55,152,129,156,171,112,43,58,143,144,119,126,"
            + "154,160,126,66,123,126,167,78,143"
      })
  void shouldMatchPillowBicubicByteForByte(int w, int h, int outW, int outH, String expected) {
    // Given
    RgbImage source = synthetic(w, h);

    // When
    RgbImage resized = PillowBicubicResizer.resize(source, outW, outH);

    // Then
    assertThat(resized.width()).isEqualTo(outW);
    assertThat(resized.height()).isEqualTo(outH);
    int[] actual = new int[resized.rgb().length];
    for (int i = 0; i < actual.length; i++) {
      actual[i] = resized.rgb()[i] & 0xFF;
    }
    assertThat(actual).containsExactly(parse(expected));
  }

  @Test
  void shouldReturnTheSamePixelsWhenTheSizeIsUnchanged() {
    RgbImage source = synthetic(5, 4);

    assertThat(PillowBicubicResizer.resize(source, 5, 4).rgb()).isEqualTo(source.rgb());
  }

  @Test
  void shouldNormaliseWeightsToOneForEveryOutputPixel() {
    // Given a 1000 -> 384 downscale: the kernel spans ~11 source pixels
    PillowBicubicResizer.Coefficients c = PillowBicubicResizer.Coefficients.compute(1000, 384);

    // Then each fixed-point row sums to 1.0 within rounding of its taps
    for (int xx = 0; xx < 384; xx++) {
      long sum = 0;
      for (int i = 0; i < c.bounds[2 * xx + 1]; i++) {
        sum += c.weights[xx * c.ksize + i];
      }
      assertThat(sum).isCloseTo(1L << 22, org.assertj.core.data.Offset.offset((long) c.ksize));
    }
  }

  static RgbImage synthetic(int w, int h) {
    byte[] rgb = new byte[w * h * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int p = (y * w + x) * 3;
        rgb[p] = (byte) ((x * 37 + y * 11) % 256);
        rgb[p + 1] = (byte) ((x * x * 5 + y * 53) % 256);
        rgb[p + 2] = (byte) ((x + y) % 2 == 1 ? 255 : 0);
      }
    }
    return new RgbImage(w, h, rgb);
  }

  private static int[] parse(String csv) {
    String[] parts = csv.split(",");
    int[] values = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      values[i] = Integer.parseInt(parts[i].trim());
    }
    return values;
  }
}
