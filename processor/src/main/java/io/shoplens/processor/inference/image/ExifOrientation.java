package io.shoplens.processor.inference.image;

/**
 * Reads the EXIF orientation tag (0x0112) straight from the container bytes, without decoding
 * pixels, and applies it the way Pillow's {@code ImageOps.exif_transpose} does.
 *
 * <p>Why we apply it: Hugging Face's image processors do not, but {@code transformers}' {@code
 * load_image} does ({@code exif_transpose} then {@code convert("RGB")}), and so does every viewer a
 * shopper used to take or check the photo: a phone picture tagged "rotate 90" shows upright to the
 * user and must reach the model upright too. Images without the tag (or with value 1) are
 * unaffected, so this cannot change parity for them.
 *
 * <p>Looks in JPEG APP1 "Exif" segments, PNG {@code eXIf} chunks and WebP {@code EXIF} chunks.
 * Anything malformed reads as "no orientation": a broken tag must not cost us the image.
 */
final class ExifOrientation {
  /** No transform. */
  static final int NORMAL = 1;

  private ExifOrientation() {}

  /** The orientation (1..8) recorded in {@code bytes}, or {@link #NORMAL} if none or invalid. */
  static int read(byte[] bytes) {
    try {
      int value;
      if (bytes.length > 3 && u8(bytes, 0) == 0xFF && u8(bytes, 1) == 0xD8) {
        value = fromJpeg(bytes);
      } else if (bytes.length > 8 && u8(bytes, 0) == 0x89 && bytes[1] == 'P' && bytes[2] == 'N') {
        value = fromPng(bytes);
      } else if (bytes.length > 12
          && bytes[0] == 'R'
          && bytes[1] == 'I'
          && bytes[8] == 'W'
          && bytes[9] == 'E') {
        value = fromWebp(bytes);
      } else {
        value = NORMAL;
      }
      return value >= 1 && value <= 8 ? value : NORMAL;
    } catch (ArrayIndexOutOfBoundsException e) {
      return NORMAL;
    }
  }

  private static int fromJpeg(byte[] b) {
    int p = 2;
    while (p + 4 <= b.length) {
      if (u8(b, p) != 0xFF) {
        return NORMAL;
      }
      int marker = u8(b, p + 1);
      if (marker == 0xFF) {
        p++; // fill byte
        continue;
      }
      if (marker == 0xDA || marker == 0xD9) {
        return NORMAL; // start of scan / end of image: metadata is over
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        p += 2; // markers without a length
        continue;
      }
      int length = u16be(b, p + 2);
      int data = p + 4;
      if (marker == 0xE1
          && length >= 8
          && b[data] == 'E'
          && b[data + 1] == 'x'
          && b[data + 2] == 'i'
          && b[data + 3] == 'f'
          && b[data + 4] == 0
          && b[data + 5] == 0) {
        return fromTiff(b, data + 6, Math.min(b.length, p + 2 + length));
      }
      p += 2 + length;
    }
    return NORMAL;
  }

  private static int fromPng(byte[] b) {
    int p = 8;
    while (p + 8 <= b.length) {
      long length = u32be(b, p);
      int type = (int) u32be(b, p + 4);
      if (length > b.length - p - 12) {
        return NORMAL;
      }
      if (type == 0x65584966) { // "eXIf"
        return fromTiff(b, p + 8, p + 8 + (int) length);
      }
      if (type == 0x49454E44) { // "IEND"; eXIf may follow IDAT, and Pillow still reads it
        return NORMAL;
      }
      p += 12 + (int) length;
    }
    return NORMAL;
  }

  private static int fromWebp(byte[] b) {
    int p = 12;
    while (p + 8 <= b.length) {
      long size = u32le(b, p + 4);
      if (size > b.length - p - 8) {
        return NORMAL;
      }
      if (b[p] == 'E' && b[p + 1] == 'X' && b[p + 2] == 'I' && b[p + 3] == 'F') {
        int start = p + 8;
        // Some writers keep JPEG's "Exif\0\0" prefix inside the chunk.
        if (size >= 6 && b[start] == 'E' && b[start + 1] == 'x' && b[start + 4] == 0) {
          start += 6;
        }
        return fromTiff(b, start, p + 8 + (int) size);
      }
      p += 8 + (int) (size + (size & 1));
    }
    return NORMAL;
  }

  /** Orientation from a TIFF structure at {@code [start, end)}: IFD0, tag 0x0112, type SHORT. */
  private static int fromTiff(byte[] b, int start, int end) {
    if (end - start < 8) {
      return NORMAL;
    }
    boolean little;
    if (b[start] == 'I' && b[start + 1] == 'I') {
      little = true;
    } else if (b[start] == 'M' && b[start + 1] == 'M') {
      little = false;
    } else {
      return NORMAL;
    }
    long ifd = u32(b, start + 4, little);
    if (ifd < 8 || ifd > end - start - 2) {
      return NORMAL;
    }
    int p = start + (int) ifd;
    int entries = u16(b, p, little);
    p += 2;
    for (int i = 0; i < entries && p + 12 <= end; i++, p += 12) {
      if (u16(b, p, little) == 0x0112) {
        int type = u16(b, p + 2, little);
        return type == 3 ? u16(b, p + 8, little) : NORMAL;
      }
    }
    return NORMAL;
  }

  /** {@code image} transformed to display orientation (Pillow's transpose for each value). */
  static RgbImage apply(RgbImage image, int orientation) {
    if (orientation <= NORMAL || orientation > 8) {
      return image;
    }
    int w = image.width();
    int h = image.height();
    boolean swap = orientation >= 5;
    int outW = swap ? h : w;
    int outH = swap ? w : h;
    byte[] src = image.rgb();
    byte[] out = new byte[src.length];
    for (int y = 0; y < outH; y++) {
      for (int x = 0; x < outW; x++) {
        int sx;
        int sy;
        switch (orientation) {
          case 2 -> { // FLIP_LEFT_RIGHT
            sx = w - 1 - x;
            sy = y;
          }
          case 3 -> { // ROTATE_180
            sx = w - 1 - x;
            sy = h - 1 - y;
          }
          case 4 -> { // FLIP_TOP_BOTTOM
            sx = x;
            sy = h - 1 - y;
          }
          case 5 -> { // TRANSPOSE
            sx = y;
            sy = x;
          }
          case 6 -> { // ROTATE_270 (90 degrees clockwise)
            sx = y;
            sy = h - 1 - x;
          }
          case 7 -> { // TRANSVERSE
            sx = w - 1 - y;
            sy = h - 1 - x;
          }
          default -> { // 8: ROTATE_90 (90 degrees counter-clockwise)
            sx = w - 1 - y;
            sy = x;
          }
        }
        int s = (sy * w + sx) * 3;
        int o = (y * outW + x) * 3;
        out[o] = src[s];
        out[o + 1] = src[s + 1];
        out[o + 2] = src[s + 2];
      }
    }
    return new RgbImage(outW, outH, out);
  }

  private static int u8(byte[] b, int p) {
    return b[p] & 0xFF;
  }

  private static int u16be(byte[] b, int p) {
    return (u8(b, p) << 8) | u8(b, p + 1);
  }

  private static long u32be(byte[] b, int p) {
    return ((long) u16be(b, p) << 16) | u16be(b, p + 2);
  }

  private static long u32le(byte[] b, int p) {
    return u8(b, p) | (u8(b, p + 1) << 8) | (u8(b, p + 2) << 16) | ((long) u8(b, p + 3) << 24);
  }

  private static int u16(byte[] b, int p, boolean little) {
    return little ? u8(b, p) | (u8(b, p + 1) << 8) : u16be(b, p);
  }

  private static long u32(byte[] b, int p, boolean little) {
    return little ? u32le(b, p) : u32be(b, p);
  }
}
