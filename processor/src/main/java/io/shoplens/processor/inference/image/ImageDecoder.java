package io.shoplens.processor.inference.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes JPEG, PNG, GIF, BMP and WebP bytes into 8-bit RGB exactly as Pillow's {@code
 * Image.open(...).convert("RGB")} would, refusing hostile input with a typed {@link
 * ImageDecodeException}.
 *
 * <p>RGB conversion follows Pillow, which Hugging Face's {@code convert_to_rgb} calls:
 *
 * <ul>
 *   <li>alpha is dropped, never composited onto a background (RGBA, LA, WebP with alpha);
 *   <li>palette images are looked up in their palette (transparency ignored);
 *   <li>grayscale is replicated into R, G and B;
 *   <li>16-bit colour (and gray with alpha) keeps the high byte (Pillow's "RGB;16B" unpacker),
 *       while 16-bit grayscale is <em>clipped</em> to 255 (Pillow's "I;16" to "RGB" conversion),
 *       odd as that is.
 * </ul>
 *
 * <p>Known divergences from Pillow, all outside the fixtures: JPEGs with a non-sRGB ICC profile and
 * CMYK/YCCK JPEGs are colour-managed to sRGB by the TwelveMonkeys reader (Pillow ignores the
 * profile, and converts CMYK naively); animated GIFs whose first frame is smaller than the logical
 * screen decode to the frame, not the screen; lossy WebP is decoded by TwelveMonkeys' Java VP8
 * decoder, which repeats each chroma sample where libwebp interpolates ("fancy upsampling"): on a
 * photo, a mean of about 3 and at most about 60 levels per channel apart, at colour edges, and no
 * token changed on the tiny model ({@code WebpFidelityTest}).
 *
 * <p>Decompression bombs: the dimensions are read from the header (no pixel is decoded) and images
 * above {@code maxPixels} are refused before any pixel buffer is allocated.
 *
 * <p>Thread-safe: each call uses its own {@link ImageReader}.
 */
public final class ImageDecoder {
  /** Default pixel-count limit: 40 megapixels (a 7300 x 5500 photo; ~120 MB of RGB). */
  public static final long DEFAULT_MAX_PIXELS = 40_000_000L;

  private static final String EXPECTED = "a JPEG, PNG, GIF, BMP or WebP image";

  private final long maxPixels;

  /** A decoder with the {@linkplain #DEFAULT_MAX_PIXELS default} pixel limit. */
  public ImageDecoder() {
    this(DEFAULT_MAX_PIXELS);
  }

  /**
   * @param maxPixels largest width x height accepted; larger images fail with {@link
   *     ImageDecodeException.Reason#TOO_LARGE} before decoding
   */
  public ImageDecoder(long maxPixels) {
    if (maxPixels <= 0) {
      throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
    }
    this.maxPixels = maxPixels;
  }

  public long maxPixels() {
    return maxPixels;
  }

  /**
   * Decodes {@code bytes} to RGB, applying EXIF orientation (see {@link ExifOrientation} for why).
   *
   * @throws ImageDecodeException if the bytes are empty, not a supported image, larger than the
   *     pixel limit, or truncated/corrupt
   */
  public RgbImage decode(byte[] bytes) {
    RgbImage image = decodeIgnoringOrientation(bytes);
    return ExifOrientation.apply(image, ExifOrientation.read(bytes));
  }

  /** As {@link #decode} but leaves EXIF orientation alone, as Hugging Face's processor does. */
  public RgbImage decodeIgnoringOrientation(byte[] bytes) {
    if (bytes == null || bytes.length == 0) {
      throw new ImageDecodeException(
          ImageDecodeException.Reason.EMPTY, "expected " + EXPECTED + ", got 0 bytes");
    }
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new ImageDecodeException(
            ImageDecodeException.Reason.UNSUPPORTED_FORMAT,
            "expected " + EXPECTED + ", got " + describe(bytes));
      }
      ImageReader reader = readers.next();
      try {
        return read(reader, in, bytes);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      // Only close() can get here; reading errors are mapped inside read().
      throw new ImageDecodeException(
          ImageDecodeException.Reason.CORRUPT, "could not read image bytes: " + e.getMessage(), e);
    }
  }

  private RgbImage read(ImageReader reader, ImageInputStream in, byte[] bytes) {
    String format = formatName(reader);
    reader.setInput(in, true, true);
    int width;
    int height;
    try {
      width = reader.getWidth(0);
      height = reader.getHeight(0);
    } catch (IOException | RuntimeException e) {
      throw new ImageDecodeException(
          ImageDecodeException.Reason.CORRUPT,
          "expected a readable "
              + format
              + " header, but it is damaged or truncated ("
              + bytes.length
              + " bytes): "
              + detail(e),
          e);
    }
    if (width <= 0 || height <= 0) {
      throw new ImageDecodeException(
          ImageDecodeException.Reason.CORRUPT,
          format + " header declares an empty image: " + width + "x" + height);
    }
    long pixels = (long) width * height;
    if (pixels > maxPixels) {
      throw new ImageDecodeException(
          ImageDecodeException.Reason.TOO_LARGE,
          "expected at most "
              + maxPixels
              + " pixels, got a "
              + format
              + " of "
              + width
              + "x"
              + height
              + " = "
              + pixels
              + " pixels; refused before decoding");
    }
    long riffDeclared = riffLength(bytes);
    if (riffDeclared > bytes.length) {
      // TwelveMonkeys' lossless WebP decoder fills a cut-off stream silently; the RIFF size
      // field tells us the file is incomplete before we decode anything.
      throw new ImageDecodeException(
          ImageDecodeException.Reason.CORRUPT,
          "expected "
              + riffDeclared
              + " bytes, as the "
              + format
              + " RIFF header declares, but got "
              + bytes.length
              + ": the file is truncated");
    }
    List<String> warnings = new ArrayList<>();
    IIOReadWarningListener listener = (source, warning) -> warnings.add(warning);
    reader.addIIOReadWarningListener(listener);
    BufferedImage image;
    try {
      image = reader.read(0);
    } catch (IOException | RuntimeException e) {
      throw new ImageDecodeException(
          ImageDecodeException.Reason.CORRUPT,
          incomplete(format, width, height, "its data is damaged or truncated", bytes, detail(e)),
          e);
    }
    for (String warning : warnings) {
      // libjpeg only warns on a truncated stream and fills the rest with gray; Pillow refuses
      // such files ("image file is truncated"), and so do we.
      String w = warning.toLowerCase(Locale.ROOT);
      if (w.contains("premature end") || w.contains("truncat")) {
        throw new ImageDecodeException(
            ImageDecodeException.Reason.CORRUPT,
            incomplete(format, width, height, "the data ends early", bytes, warning));
      }
    }
    return toRgb(image);
  }

  /** "expected a complete PNG of WxH, but {@code what} (N bytes): {@code detail}". */
  private static String incomplete(
      String format, int width, int height, String what, byte[] bytes, String detail) {
    return "expected a complete "
        + format
        + " of "
        + width
        + "x"
        + height
        + ", but "
        + what
        + " ("
        + bytes.length
        + " bytes): "
        + detail;
  }

  /** Pillow's {@code convert("RGB")} for the models Java's readers produce. */
  static RgbImage toRgb(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    byte[] out = new byte[w * h * 3];
    ColorModel cm = image.getColorModel();
    Raster raster = image.getRaster();
    int[] row = new int[w];
    if (cm instanceof IndexColorModel icm) {
      int size = icm.getMapSize();
      byte[] reds = new byte[size];
      byte[] greens = new byte[size];
      byte[] blues = new byte[size];
      icm.getReds(reds);
      icm.getGreens(greens);
      icm.getBlues(blues);
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        int o = y * w * 3;
        for (int x = 0; x < w; x++, o += 3) {
          int i = row[x] < size ? row[x] : 0;
          out[o] = reds[i];
          out[o + 1] = greens[i];
          out[o + 2] = blues[i];
        }
      }
    } else if (cm instanceof ComponentColorModel
        && !cm.isAlphaPremultiplied()
        && isIntegral(raster.getTransferType())
        && (cm.getColorSpace().getType() == ColorSpace.TYPE_RGB
            || cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY)) {
      // Raw samples, as Pillow keeps them: no colour management of gray or RGB spaces.
      boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
      // Pillow opens 16-bit gray as "I;16" (clipped on conversion) but 16-bit gray+alpha as "LA"
      // through the high byte, like 16-bit colour.
      boolean clip16 = gray && !cm.hasAlpha();
      int bits = cm.getComponentSize(0);
      for (int band = 0; band < (gray ? 1 : 3); band++) {
        for (int y = 0; y < h; y++) {
          raster.getSamples(0, y, w, 1, band, row);
          int o = y * w * 3 + band;
          for (int x = 0; x < w; x++, o += 3) {
            int v = row[x];
            if (bits > 8) {
              v = clip16 ? Math.min(v, 255) : v >>> (bits - 8);
            } else if (bits < 8) {
              v = v * 255 / ((1 << bits) - 1);
            }
            out[o] = (byte) v;
            if (gray) {
              out[o + 1] = (byte) v;
              out[o + 2] = (byte) v;
            }
          }
        }
      }
    } else {
      // Packed RGB (BMP, WebP), CMYK and other spaces: Java2D's conversion to sRGB, which is
      // exact for packed sRGB pixels and colour-managed for the rest.
      for (int y = 0; y < h; y++) {
        image.getRGB(0, y, w, 1, row, 0, w);
        int o = y * w * 3;
        for (int x = 0; x < w; x++, o += 3) {
          int argb = row[x];
          out[o] = (byte) (argb >> 16);
          out[o + 1] = (byte) (argb >> 8);
          out[o + 2] = (byte) argb;
        }
      }
    }
    return new RgbImage(w, h, out);
  }

  /** Declared length of a RIFF container (WebP) including its 8-byte header, or -1. */
  private static long riffLength(byte[] b) {
    if (b.length < 12 || b[0] != 'R' || b[1] != 'I' || b[2] != 'F' || b[3] != 'F') {
      return -1;
    }
    long size =
        (b[4] & 0xFF) | ((b[5] & 0xFF) << 8) | ((b[6] & 0xFF) << 16) | ((long) (b[7] & 0xFF) << 24);
    return size + 8;
  }

  private static String detail(Throwable e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private static boolean isIntegral(int transferType) {
    return transferType == DataBuffer.TYPE_BYTE
        || transferType == DataBuffer.TYPE_USHORT
        || transferType == DataBuffer.TYPE_INT;
  }

  private static String formatName(ImageReader reader) {
    try {
      String[] names = reader.getOriginatingProvider().getFormatNames();
      return names.length > 0 ? names[0].toUpperCase(Locale.ROOT) : "image";
    } catch (RuntimeException e) {
      return "image";
    }
  }

  /** "37 bytes starting 0x3c68746d6c3e" — enough to tell HTML, text or zeros at a glance. */
  private static String describe(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    sb.append(bytes.length).append(" bytes starting 0x");
    for (int i = 0; i < Math.min(8, bytes.length); i++) {
      sb.append(String.format("%02x", bytes[i] & 0xFF));
    }
    return sb.toString();
  }
}
