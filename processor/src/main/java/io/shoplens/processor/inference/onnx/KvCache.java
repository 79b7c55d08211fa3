package io.shoplens.processor.inference.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The decoder's key/value cache for one decoding batch, kept in direct buffers so that ONNX Runtime
 * reads past tensors and writes present tensors in place, without copies.
 *
 * <p>Two buffers per tensor alternate: a step reads {@code past} from the current one and writes
 * {@code present} into the spare one (pinned outputs), then they swap. A beam reorder gathers rows
 * from the current buffer into the spare one and swaps. Layout of each tensor is [B, N, P, D].
 *
 * <p>The direct buffers live in a {@link Storage} that {@link Blip2Graphs} hands to the next cache
 * once this one is recycled: allocating (and zeroing) them for every batch cost tens of
 * milliseconds and, since direct memory is only returned when the garbage collector gets to it, let
 * the process's resident memory grow by the cache and prefill logits size per batch.
 *
 * <p>Not thread-safe: one decoding loop owns it.
 */
public final class KvCache {
  private final int layers;
  private final int batch;
  private final int heads;
  private final int headDim;
  private final int capacity;
  private final Storage storage;
  private ByteBuffer[] current;
  private ByteBuffer[] spare;
  private int length;

  /**
   * A cache in {@code storage}'s buffers (their old contents are never read: every step writes the
   * whole present tensor before it becomes the past).
   *
   * @throws IllegalArgumentException if {@code storage} is too small ({@link Storage#fits})
   */
  KvCache(int layers, int batch, int heads, int headDim, int capacity, Storage storage) {
    this.layers = layers;
    this.batch = batch;
    this.heads = heads;
    this.headDim = headDim;
    this.capacity = capacity;
    long bytes = tensorBytes(batch, heads, headDim, capacity);
    if (!storage.fits(2 * layers, bytes)) {
      throw new IllegalArgumentException("storage too small for " + bytes + " bytes per tensor");
    }
    this.storage = storage;
    current = storage.first.clone();
    spare = storage.second.clone();
  }

  /**
   * Bytes of one key or value tensor of {@code capacity} tokens.
   *
   * @throws IllegalArgumentException above 2 GiB (a direct buffer's limit)
   */
  static long tensorBytes(int batch, int heads, int headDim, int capacity) {
    long bytes = 4L * batch * heads * capacity * headDim;
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "KV cache tensor of "
              + bytes
              + " bytes (batch "
              + batch
              + ", length "
              + capacity
              + ") exceeds 2 GiB; use smaller batches");
    }
    return bytes;
  }

  /** The buffers behind this cache, for reuse by a later cache once this one is done. */
  Storage storage() {
    return storage;
  }

  /**
   * Direct buffers for a cache: two per key/value tensor (past and present alternate) and one for
   * logits. Any cache whose tensors fit can use them, whatever its batch and length.
   */
  static final class Storage {
    private final ByteBuffer[] first;
    private final ByteBuffer[] second;
    private ByteBuffer logits = ByteBuffer.allocateDirect(0);

    Storage(int tensors, long bytesEach) {
      first = new ByteBuffer[tensors];
      second = new ByteBuffer[tensors];
      for (int i = 0; i < tensors; i++) {
        first[i] = ByteBuffer.allocateDirect((int) bytesEach).order(ByteOrder.nativeOrder());
        second[i] = ByteBuffer.allocateDirect((int) bytesEach).order(ByteOrder.nativeOrder());
      }
    }

    /** Whether a cache of {@code tensors} tensors of {@code bytesEach} bytes fits. */
    boolean fits(int tensors, long bytesEach) {
      return first.length == tensors && (tensors == 0 || first[0].capacity() >= bytesEach);
    }

    /** Bytes held, logits included. */
    long bytes() {
      long total = logits.capacity();
      for (int i = 0; i < first.length; i++) {
        total += first[i].capacity() + second[i].capacity();
      }
      return total;
    }
  }

  /** Rows in the batch. */
  public int batch() {
    return batch;
  }

  /** Past length P: tokens already cached per row. */
  public int length() {
    return length;
  }

  /** Past tensor {@code i} (2*layer for key, 2*layer+1 for value) of the current length. */
  FloatBuffer past(int i) {
    return view(current[i], length);
  }

  /** Where present tensor {@code i} of {@code newLength} is written. */
  FloatBuffer presentTarget(int i, int newLength) {
    if (newLength > capacity) {
      throw new IllegalStateException(
          "KV cache full: " + newLength + " tokens requested, capacity " + capacity);
    }
    return view(spare[i], newLength);
  }

  /** The step wrote {@code newLength} tokens into the spare buffers: make them current. */
  void advance(int newLength) {
    swap();
    length = newLength;
  }

  /** A scratch direct buffer for logits, reused across steps. */
  FloatBuffer logitsTarget(int floats) {
    if (storage.logits.capacity() < 4 * floats) {
      storage.logits = ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder());
    }
    return floats(storage.logits, floats);
  }

  /**
   * Replaces every row by a copy of another row of the current cache: row {@code r} becomes old row
   * {@code sourceRows[r]}. Used by beam search when beams are re-ranked.
   */
  public void reorder(int[] sourceRows) {
    if (sourceRows.length != batch) {
      throw new IllegalArgumentException(
          "reorder needs " + batch + " source rows, got " + sourceRows.length);
    }
    boolean identity = true;
    for (int r = 0; r < batch; r++) {
      identity &= sourceRows[r] == r;
    }
    if (identity) {
      return;
    }
    int rowBytes = 4 * heads * length * headDim;
    for (int i = 0; i < 2 * layers; i++) {
      ByteBuffer src = current[i];
      ByteBuffer dst = spare[i];
      for (int r = 0; r < batch; r++) {
        dst.put(r * rowBytes, src, sourceRows[r] * rowBytes, rowBytes);
      }
    }
    swap();
  }

  private void swap() {
    ByteBuffer[] t = current;
    current = spare;
    spare = t;
  }

  private FloatBuffer view(ByteBuffer buffer, int tokens) {
    return floats(buffer, batch * heads * tokens * headDim);
  }

  private static FloatBuffer floats(ByteBuffer buffer, int count) {
    return buffer
        .duplicate()
        .clear()
        .limit(4 * count)
        .slice()
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }
}
