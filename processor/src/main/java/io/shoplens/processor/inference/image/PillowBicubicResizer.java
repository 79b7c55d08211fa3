package io.shoplens.processor.inference.image;

import java.util.Arrays;

/**
 * Bicubic resize of an 8-bit RGB image, bit-for-bit what Pillow's {@code Image.resize(size,
 * Resampling.BICUBIC)} computes (Pillow 12, {@code libImaging/Resample.c}), which is what Hugging
 * Face's {@code BlipImageProcessorPil} calls.
 *
 * <p>The algorithm, reproduced here rather than approximated with Java2D (whose bicubic neither
 * antialiases nor rounds the same way):
 *
 * <ul>
 *   <li>Separable: a horizontal pass then a vertical pass, each rounded and clipped to 8 bits. For
 *       images more than 100 times taller than wide Pillow runs the vertical pass first; so do we.
 *   <li>Keys cubic kernel with a = -0.5 and support 2, stretched by the downscale factor, so that
 *       downscaling averages over every source pixel (antialiasing).
 *   <li>Per output pixel, weights are computed in double, normalised to sum 1, then turned into
 *       22-bit fixed point; sums start at 0.5 in fixed point and are shifted and clipped.
 * </ul>
 *
 * <p>Weights depend only on the sizes, so instances are immutable and cached per shape by callers
 * if they wish; one instance is safe for concurrent use.
 */
final class PillowBicubicResizer {
  private static final int PRECISION_BITS = 32 - 8 - 2;
  private static final double BICUBIC_SUPPORT = 2.0;
  private static final double A = -0.5;

  private PillowBicubicResizer() {}

  /** Resizes {@code src} to {@code outWidth x outHeight}. */
  static RgbImage resize(RgbImage src, int outWidth, int outHeight) {
    int inW = src.width();
    int inH = src.height();
    if (inW == outWidth && inH == outHeight) {
      // Image.resize returns a plain copy when nothing changes.
      return src;
    }
    Coefficients vertical = Coefficients.compute(inH, outHeight);
    Coefficients horizontal = Coefficients.compute(inW, outWidth);
    boolean needHorizontal = inW != outWidth;
    boolean needVertical = inH != outHeight;

    if (inH > (long) inW * 100 && outHeight < inH) {
      // Image.resize's special case for very tall images: vertical first, over all columns.
      byte[] tmp = verticalPass(src.rgb(), inW, vertical, 0, outHeight);
      byte[] out = needHorizontal ? horizontalPass(tmp, inW, 0, outHeight, horizontal) : tmp;
      return new RgbImage(outWidth, outHeight, out);
    }

    byte[] pixels = src.rgb();
    int width = inW;
    int rowShift = 0;
    if (needHorizontal) {
      // Only the source rows the vertical pass reads, as ImagingResampleInner does.
      int first = vertical.bounds[0];
      int last = vertical.bounds[2 * (outHeight - 1)] + vertical.bounds[2 * (outHeight - 1) + 1];
      pixels = horizontalPass(pixels, inW, first, last - first, horizontal);
      width = outWidth;
      rowShift = first;
    }
    if (needVertical) {
      pixels = verticalPass(pixels, width, vertical, rowShift, outHeight);
    }
    return new RgbImage(outWidth, outHeight, pixels);
  }

  /** Resamples rows {@code firstRow .. firstRow + rows - 1} of {@code src} horizontally. */
  private static byte[] horizontalPass(
      byte[] src, int srcWidth, int firstRow, int rows, Coefficients c) {
    int outWidth = c.outSize;
    byte[] out = new byte[rows * outWidth * 3];
    int[] bounds = c.bounds;
    int[] weights = c.weights;
    int ksize = c.ksize;
    int half = 1 << (PRECISION_BITS - 1);
    for (int y = 0; y < rows; y++) {
      int rowBase = (y + firstRow) * srcWidth * 3;
      int outBase = y * outWidth * 3;
      for (int xx = 0; xx < outWidth; xx++) {
        int xmin = bounds[2 * xx];
        int n = bounds[2 * xx + 1];
        int k = xx * ksize;
        int s0 = half;
        int s1 = half;
        int s2 = half;
        int p = rowBase + xmin * 3;
        for (int i = 0; i < n; i++, p += 3) {
          int w = weights[k + i];
          s0 += (src[p] & 0xFF) * w;
          s1 += (src[p + 1] & 0xFF) * w;
          s2 += (src[p + 2] & 0xFF) * w;
        }
        int o = outBase + xx * 3;
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
      }
    }
    return out;
  }

  /**
   * Resamples {@code src} (of width {@code width}) vertically to {@code outHeight} rows; source row
   * indices in {@code c} are taken relative to {@code rowShift}.
   */
  private static byte[] verticalPass(
      byte[] src, int width, Coefficients c, int rowShift, int outHeight) {
    byte[] out = new byte[outHeight * width * 3];
    int[] bounds = c.bounds;
    int[] weights = c.weights;
    int ksize = c.ksize;
    int half = 1 << (PRECISION_BITS - 1);
    int stride = width * 3;
    int[] acc = new int[stride];
    for (int yy = 0; yy < outHeight; yy++) {
      int ymin = bounds[2 * yy] - rowShift;
      int n = bounds[2 * yy + 1];
      int k = yy * ksize;
      Arrays.fill(acc, half);
      // Row-major accumulation: the same integer sums as Pillow's column loop, in cache order.
      for (int i = 0; i < n; i++) {
        int w = weights[k + i];
        int rowBase = (ymin + i) * stride;
        for (int j = 0; j < stride; j++) {
          acc[j] += (src[rowBase + j] & 0xFF) * w;
        }
      }
      int outBase = yy * stride;
      for (int j = 0; j < stride; j++) {
        out[outBase + j] = clip8(acc[j]);
      }
    }
    return out;
  }

  private static byte clip8(int sum) {
    int v = sum >> PRECISION_BITS;
    return (byte) (v < 0 ? 0 : (v > 255 ? 255 : v));
  }

  static double bicubicFilter(double x) {
    if (x < 0.0) {
      x = -x;
    }
    if (x < 1.0) {
      return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
    }
    if (x < 2.0) {
      return (((x - 5) * x + 8) * x - 4) * A;
    }
    return 0.0;
  }

  /**
   * Per output index: the first source index, how many source pixels contribute, and their 22-bit
   * fixed-point weights ({@code precompute_coeffs} followed by {@code normalize_coeffs_8bpc}).
   */
  static final class Coefficients {
    final int outSize;
    final int ksize;
    final int[] bounds;
    final int[] weights;

    private Coefficients(int outSize, int ksize, int[] bounds, int[] weights) {
      this.outSize = outSize;
      this.ksize = ksize;
      this.bounds = bounds;
      this.weights = weights;
    }

    static Coefficients compute(int inSize, int outSize) {
      // Pillow takes the box as floats: in1 - in0 is a float subtraction, exact for our sizes.
      double scale = (double) ((float) inSize) / outSize;
      double filterScale = Math.max(scale, 1.0);
      double support = BICUBIC_SUPPORT * filterScale;
      int ksize = (int) Math.ceil(support) * 2 + 1;
      int[] bounds = new int[outSize * 2];
      int[] weights = new int[outSize * ksize];
      double[] k = new double[ksize];
      double ss = 1.0 / filterScale;
      for (int xx = 0; xx < outSize; xx++) {
        double center = (xx + 0.5) * scale;
        // (int) truncates toward zero, as C's cast does.
        int xmin = (int) (center - support + 0.5);
        if (xmin < 0) {
          xmin = 0;
        }
        int xmax = (int) (center + support + 0.5);
        if (xmax > inSize) {
          xmax = inSize;
        }
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
          double w = bicubicFilter((x + xmin - center + 0.5) * ss);
          k[x] = w;
          ww += w;
        }
        for (int x = 0; x < xmax; x++) {
          double w = ww != 0.0 ? k[x] / ww : k[x];
          weights[xx * ksize + x] =
              w < 0
                  ? (int) (-0.5 + w * (1 << PRECISION_BITS))
                  : (int) (0.5 + w * (1 << PRECISION_BITS));
        }
        bounds[2 * xx] = xmin;
        bounds[2 * xx + 1] = xmax;
      }
      return new Coefficients(outSize, ksize, bounds, weights);
    }
  }
}
