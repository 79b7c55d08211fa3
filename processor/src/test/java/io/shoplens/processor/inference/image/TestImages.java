package io.shoplens.processor.inference.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Builds small images in memory for tests: encoded with ImageIO, or hand-made byte streams. */
final class TestImages {
  private TestImages() {}

  static byte[] encode(BufferedImage image, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** An RGB image whose four quadrants are red, green, blue and white (TL, TR, BL, BR). */
  static BufferedImage quadrants(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        boolean right = x >= width / 2;
        boolean bottom = y >= height / 2;
        int rgb = bottom ? (right ? 0xFFFFFF : 0x0000FF) : (right ? 0x00FF00 : 0xFF0000);
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  /** A PNG chunk: length, type, data, CRC over type and data. */
  static byte[] pngChunk(String type, byte[] data) {
    ByteBuffer chunk = ByteBuffer.allocate(12 + data.length);
    chunk.putInt(data.length);
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    chunk.put(typeBytes).put(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    chunk.putInt((int) crc.getValue());
    return chunk.array();
  }

  /**
   * A PNG that claims {@code width x height} RGB pixels in a valid IHDR (correct CRC) but carries
   * only a few bytes of image data: a decompression bomb's header without the bomb.
   */
  static byte[] pngHeaderOnly(int width, int height) {
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0);
    ihdr.put((byte) 0).put((byte) 0);
    return concat(
        new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
        pngChunk("IHDR", ihdr.array()),
        pngChunk("IDAT", new byte[] {0x78, (byte) 0x9C, 0x03, 0x00}),
        pngChunk("IEND", new byte[0]));
  }

  /** A big-endian TIFF block holding only IFD0 with an Orientation (0x0112) SHORT tag. */
  static byte[] tiffWithOrientation(int orientation) {
    ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4);
    tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
    tiff.putShort((short) 1);
    tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1);
    tiff.putShort((short) orientation).putShort((short) 0);
    tiff.putInt(0);
    return tiff.array();
  }

  /** {@code png} with an {@code eXIf} chunk carrying {@code orientation} inserted after IHDR. */
  static byte[] withPngOrientation(byte[] png, int orientation) {
    int afterIhdr = 8 + 12 + 13;
    byte[] head = java.util.Arrays.copyOfRange(png, 0, afterIhdr);
    byte[] tail = java.util.Arrays.copyOfRange(png, afterIhdr, png.length);
    return concat(head, pngChunk("eXIf", tiffWithOrientation(orientation)), tail);
  }

  /** {@code jpeg} with an APP1 "Exif" segment carrying {@code orientation} right after SOI. */
  static byte[] withJpegOrientation(byte[] jpeg, int orientation) {
    byte[] tiff = tiffWithOrientation(orientation);
    int length = 2 + 6 + tiff.length;
    ByteBuffer app1 = ByteBuffer.allocate(2 + length);
    app1.put((byte) 0xFF).put((byte) 0xE1).putShort((short) length);
    app1.put("Exif".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).put((byte) 0).put(tiff);
    return concat(
        java.util.Arrays.copyOfRange(jpeg, 0, 2),
        app1.array(),
        java.util.Arrays.copyOfRange(jpeg, 2, jpeg.length));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
