package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageDecoderTest {
  private final ImageDecoder decoder = new ImageDecoder();

  // --- RGB conversion as Pillow's convert("RGB") ---

  @Test
  void shouldDropAlphaWithoutCompositingLikePillow() {
    // Given a half-transparent and a fully transparent pixel
    BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
    rgba.setRGB(0, 0, 0x80_C8_64_32);
    rgba.setRGB(1, 0, 0x00_0A_14_1E);

    // When
    RgbImage image = decoder.decode(TestImages.encode(rgba, "png"));

    // Then the colour is kept as stored: no blending onto black or white
    assertThat(pixel(image, 0, 0)).containsExactly(0xC8, 0x64, 0x32);
    assertThat(pixel(image, 1, 0)).containsExactly(0x0A, 0x14, 0x1E);
  }

  @Test
  void shouldExpandPaletteImagesThroughTheirPalette() {
    // Given a 2-bit palette PNG whose entry 1 is transparent
    byte[] r = {10, 20, 30, 40};
    byte[] g = {50, 60, 70, 80};
    byte[] b = {90, 100, 110, 120};
    byte[] a = {(byte) 255, 0, (byte) 255, (byte) 255};
    IndexColorModel palette = new IndexColorModel(2, 4, r, g, b, a);
    BufferedImage indexed = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_BINARY, palette);
    WritableRaster raster = indexed.getRaster();
    for (int x = 0; x < 4; x++) {
      raster.setSample(x, 0, 0, 3 - x);
    }

    // When
    RgbImage image = decoder.decode(TestImages.encode(indexed, "png"));

    // Then each index maps to its palette colour, transparency ignored
    assertThat(pixel(image, 0, 0)).containsExactly(40, 80, 120);
    assertThat(pixel(image, 2, 0)).containsExactly(20, 60, 100);
    assertThat(pixel(image, 3, 0)).containsExactly(10, 50, 90);
  }

  @Test
  void shouldReplicateGrayscaleWithoutGammaConversion() {
    // Given an 8-bit gray PNG (Java2D's getRGB would gamma-convert linear gray: we must not)
    BufferedImage gray = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
    gray.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 77, 200});

    // When
    RgbImage image = decoder.decode(TestImages.encode(gray, "png"));

    // Then
    assertThat(pixel(image, 1, 0)).containsExactly(77, 77, 77);
    assertThat(pixel(image, 2, 0)).containsExactly(200, 200, 200);
  }

  @Test
  void shouldClip16BitGrayscaleTo255AsPillowDoes() {
    // Given a 16-bit gray PNG: Pillow opens it as "I;16" and convert("RGB") clips, not scales
    BufferedImage gray16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
    gray16.getRaster().setSamples(0, 0, 4, 1, 0, new int[] {0, 200, 256, 65535});

    // When
    RgbImage image = decoder.decode(TestImages.encode(gray16, "png"));

    // Then
    assertThat(new int[] {image.get(0, 0, 0), image.get(1, 0, 0), image.get(2, 0, 0)})
        .containsExactly(0, 200, 255);
    assertThat(pixel(image, 3, 0)).containsExactly(255, 255, 255);
  }

  @Test
  void shouldDecodeBmpAndGifToTheSamePixels() {
    // Given the same lossless image in two more formats
    BufferedImage source = TestImages.quadrants(8, 6);

    // When
    RgbImage bmp = decoder.decode(TestImages.encode(source, "bmp"));
    RgbImage gif = decoder.decode(TestImages.encode(source, "gif"));

    // Then
    assertThat(bmp.rgb()).isEqualTo(gif.rgb());
    assertThat(pixel(bmp, 7, 5)).containsExactly(255, 255, 255);
    assertThat(pixel(bmp, 0, 5)).containsExactly(0, 0, 255);
  }

  // --- EXIF orientation ---

  @ParameterizedTest(name = "orientation {0}")
  @CsvSource({
    // orientation, then the colours now at top-left and top-right (R=red G=green B=blue W=white)
    "1, R, G",
    "2, G, R",
    "3, W, B",
    "4, B, W",
    "5, R, B",
    "6, B, R",
    "7, W, G",
    "8, G, W"
  })
  void shouldApplyExifOrientationFromPngLikeExifTranspose(
      int orientation, char topLeft, char topRight) {
    // Given a 6x4 quadrant image tagged with an orientation
    byte[] png = TestImages.encode(TestImages.quadrants(6, 4), "png");
    byte[] tagged = TestImages.withPngOrientation(png, orientation);

    // When
    RgbImage image = decoder.decode(tagged);

    // Then it is transposed as Pillow's ImageOps.exif_transpose does
    boolean swapped = orientation >= 5;
    assertThat(image.width()).isEqualTo(swapped ? 4 : 6);
    assertThat(image.height()).isEqualTo(swapped ? 6 : 4);
    assertThat(colour(pixel(image, 0, 0))).isEqualTo(topLeft);
    assertThat(colour(pixel(image, image.width() - 1, 0))).isEqualTo(topRight);
  }

  @Test
  void shouldRotateJpegTaggedOrientation6ClockwiseAndIgnoreItOnRequest() {
    // Given a JPEG tagged "rotate 90 clockwise to display"
    byte[] jpeg = TestImages.encode(TestImages.quadrants(32, 16), "jpg");
    byte[] tagged = TestImages.withJpegOrientation(jpeg, 6);

    // When
    RgbImage upright = decoder.decode(tagged);
    RgbImage raw = decoder.decodeIgnoringOrientation(tagged);

    // Then the displayed image is portrait with blue (was bottom-left) at the top-left
    assertThat(upright.width()).isEqualTo(16);
    assertThat(upright.height()).isEqualTo(32);
    assertThat(colour(pixel(upright, 2, 2))).isEqualTo('B');
    assertThat(colour(pixel(upright, 13, 2))).isEqualTo('R');
    assertThat(raw.width()).isEqualTo(32);
  }

  @Test
  void shouldIgnoreMalformedExifRatherThanRefuseTheImage() {
    // Given an APP1 segment whose TIFF header points past its end
    byte[] jpeg = TestImages.encode(TestImages.quadrants(8, 8), "jpg");
    byte[] tagged = TestImages.withJpegOrientation(jpeg, 6);
    tagged[2 + 4 + 6 + 7] = 0x7F; // IFD0 offset 8 becomes 127, past the segment

    // When
    RgbImage image = decoder.decode(tagged);

    // Then
    assertThat(ExifOrientation.read(tagged)).isEqualTo(ExifOrientation.NORMAL);
    assertThat(image.width()).isEqualTo(8);
  }

  // --- hostile input ---

  @Test
  void shouldRefuseA100MegapixelPngHeaderBeforeDecoding() {
    // Given a valid IHDR claiming 10000 x 10000 pixels and almost no data (80 bytes in all)
    byte[] bomb = TestImages.pngHeaderOnly(10_000, 10_000);
    assertThat(bomb.length).isLessThan(100);

    // When / Then: refused from the header; decoding would first allocate 300 MB
    assertThatThrownBy(() -> decoder.decode(bomb))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.TOO_LARGE))
        .hasMessageContaining("10000x10000")
        .hasMessageContaining("at most 40000000 pixels");
  }

  @Test
  void shouldHonourAConfiguredPixelLimit() {
    // Given a real 64 x 64 PNG and a limit of 4000 pixels
    byte[] png = TestImages.encode(TestImages.quadrants(64, 64), "png");
    ImageDecoder strict = new ImageDecoder(4_000);

    // When / Then
    assertThatThrownBy(() -> strict.decode(png))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.TOO_LARGE));
    assertThat(new ImageDecoder(4_096).decode(png).width()).isEqualTo(64);
  }

  @ParameterizedTest(name = "cut to {0}%")
  @ValueSource(ints = {10, 50, 95})
  void shouldRefuseATruncatedJpegAsCorrupt(int percent) {
    // Given a JPEG cut short (libjpeg alone would only warn and fill the rest with gray)
    byte[] jpeg = TestImages.encode(TestImages.quadrants(64, 48), "jpg");
    byte[] cut = Arrays.copyOf(jpeg, jpeg.length * percent / 100);

    // When / Then
    assertThatThrownBy(() -> decoder.decode(cut))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.CORRUPT))
        .hasMessageContaining("JPEG");
  }

  @Test
  void shouldRefuseATruncatedPngAsCorrupt() {
    byte[] png = TestImages.encode(TestImages.quadrants(64, 48), "png");
    byte[] cut = Arrays.copyOf(png, png.length / 2);

    assertThatThrownBy(() -> decoder.decode(cut))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.CORRUPT));
  }

  @Test
  void shouldRefuseRandomBytesAsUnsupportedAndSayWhatCame() {
    // Given bytes that are no image (seeded: the first byte is not a format signature)
    byte[] noise = new byte[1000];
    new Random(1).nextBytes(noise);

    // When / Then
    assertThatThrownBy(() -> decoder.decode(noise))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.UNSUPPORTED_FORMAT))
        .hasMessageContaining("expected a JPEG, PNG, GIF, BMP or WebP image")
        .hasMessageContaining("1000 bytes starting 0x");
  }

  @Test
  void shouldRefuseHtmlAsUnsupported() {
    byte[] html = "<html><body>404</body></html>".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    assertThatThrownBy(() -> decoder.decode(html))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.UNSUPPORTED_FORMAT))
        .hasMessageContaining("0x3c68746d6c3e");
  }

  @Test
  void shouldRefuseEmptyInput() {
    assertThatThrownBy(() -> decoder.decode(new byte[0]))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.EMPTY))
        .hasMessageContaining("got 0 bytes");
    assertThatThrownBy(() -> decoder.decode(null))
        .isInstanceOfSatisfying(
            ImageDecodeException.class,
            e -> assertThat(e.reason()).isEqualTo(ImageDecodeException.Reason.EMPTY));
  }

  private static int[] pixel(RgbImage image, int x, int y) {
    return new int[] {image.get(x, y, 0), image.get(x, y, 1), image.get(x, y, 2)};
  }

  /** The nearest of the four quadrant colours, tolerant of JPEG noise. */
  private static char colour(int[] rgb) {
    boolean r = rgb[0] > 128;
    boolean g = rgb[1] > 128;
    boolean b = rgb[2] > 128;
    if (r && g && b) {
      return 'W';
    }
    return r ? 'R' : (g ? 'G' : (b ? 'B' : '?'));
  }
}
