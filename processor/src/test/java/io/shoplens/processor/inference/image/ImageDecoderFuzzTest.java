package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * Any bytes an upload may carry, through the image decoder: the only outcomes allowed are an RGB
 * image within the pixel limit or an {@link ImageDecodeException}, and each input stays within a
 * bounded time and a bounded allocation, so a hostile upload costs one dead letter, not a stream
 * thread or the heap.
 *
 * <p>The limits are the decoder's promise, not a benchmark: the pixel limit here is 1 megapixel, so
 * a legitimate decode allocates a few RGB buffers of at most 3 MB (plus the reader's rasters);
 * {@link #MAX_ALLOCATED_BYTES} is an order of magnitude above that, and far below what a forged
 * header (65535 x 65535) would cost if it were decoded. The time bound is as generous, for a shared
 * CI machine; in fuzzing mode libFuzzer's per-input timeout applies as well.
 */
class ImageDecoderFuzzTest {
  private static final long MAX_PIXELS = 1_000_000L;
  private static final long MAX_ALLOCATED_BYTES = 256L * 1024 * 1024;
  private static final Duration MAX_TIME = Duration.ofSeconds(10);

  private static final ImageDecoder DECODER = new ImageDecoder(MAX_PIXELS);
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @FuzzTest(maxDuration = "5m")
  void shouldDecodeWithinThePixelTimeAndMemoryLimitsOrRefuse(byte[] bytes) {
    long thread = Thread.currentThread().getId();
    long allocatedBefore = THREADS.getThreadAllocatedBytes(thread);
    long start = System.nanoTime();
    try {
      RgbImage image = DECODER.decode(bytes);
      assertThat((long) image.width() * image.height()).isBetween(1L, MAX_PIXELS);
      assertThat(image.rgb()).hasSize(image.width() * image.height() * 3);
    } catch (ImageDecodeException expected) {
      assertThat(expected.reason()).isNotNull();
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    long allocated = THREADS.getThreadAllocatedBytes(thread) - allocatedBefore;
    assertThat(took).as("decode time of %d bytes", bytes.length).isLessThan(MAX_TIME);
    assertThat(allocated)
        .as("bytes allocated decoding %d input bytes", bytes.length)
        .isLessThan(MAX_ALLOCATED_BYTES);
  }
}
