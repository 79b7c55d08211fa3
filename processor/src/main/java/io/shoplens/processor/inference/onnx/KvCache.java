package io.shoplens.processor.inference.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The decoder's key/value cache for one decoding batch, kept in direct buffers so that ONNX Runtime
 * reads past tensors and writes present tensors in place, without copies.
 *
 * <p>The batch's rows and length can change between steps ({@link #regather}, {@link #place}), so
 * that one cache serves a running batch that requests join and leave (continuous batching): rows
 * are right-aligned in a window of {@link #length()} columns, each row's own earlier columns being
 * padding (zeros here, masked by the caller's attention mask).
 *
 * <p>Two buffers per tensor alternate: a step reads {@code past} from the current one and writes
 * {@code present} into the spare one (pinned outputs), then they swap. A beam reorder gathers rows
 * from the current buffer into the spare one and swaps. Layout of each tensor is [B, N, P, D], in
 * the bundle's {@link ElementType} (float32 or float16, never converted here).
 *
 * <p>The direct buffers live in a {@link Storage} that {@link Blip2Graphs} hands to the next cache
 * once this one is recycled: allocating (and zeroing) them for every batch cost tens of
 * milliseconds and, since direct memory is only returned when the garbage collector gets to it, let
 * the process's resident memory grow by the cache and prefill logits size per batch.
 *
 * <p>Not thread-safe: one decoding loop owns it.
 */
public final class KvCache {
  private final ElementType type;
  private final int bytes;
  private final int layers;
  private int batch;
  private final int heads;
  private final int headDim;
  private Storage storage;
  private long growthLimitBytes = Long.MAX_VALUE;
  private ByteBuffer[] current;
  private ByteBuffer[] spare;
  private int length;

  /**
   * A cache in {@code storage}'s buffers (their old contents are never read: every step writes the
   * whole present tensor before it becomes the past).
   *
   * @throws IllegalArgumentException if {@code storage} is too small ({@link Storage#fits})
   */
  KvCache(
      ElementType type,
      int layers,
      int batch,
      int heads,
      int headDim,
      int capacity,
      Storage storage) {
    this.type = type;
    this.bytes = type.bytes();
    this.layers = layers;
    this.batch = batch;
    this.heads = heads;
    this.headDim = headDim;
    long tensorBytes = tensorBytes(type, batch, heads, headDim, capacity);
    if (!storage.fits(2 * layers, tensorBytes)) {
      throw new IllegalArgumentException(
          "storage too small for " + tensorBytes + " bytes per tensor");
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
  static long tensorBytes(ElementType type, int batch, int heads, int headDim, int capacity) {
    long bytes = (long) type.bytes() * batch * heads * capacity * headDim;
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

  /** Bytes of one token of one row: keys and values of every layer. */
  public long bytesPerToken() {
    return 2L * layers * heads * headDim * bytes;
  }

  /** Bytes the batch's window holds now: rows x length tokens (the spare buffers not counted). */
  public long bytesInUse() {
    return (long) batch * length * bytesPerToken();
  }

  /** The type of every key and value. */
  ElementType type() {
    return type;
  }

  /** Past tensor {@code i} (2*layer for key, 2*layer+1 for value) of the current length. */
  ByteBuffer past(int i) {
    return view(current[i], length);
  }

  /**
   * Makes room for a step to {@code newLength} columns: storage grows (copying the window) when the
   * present tensors would not fit.
   */
  void reserve(int newLength) {
    long tensorBytes = tensorBytes(type, batch, heads, headDim, newLength);
    if (current.length > 0 && current[0].capacity() < tensorBytes) {
      ensureRoom(tensorBytes);
    }
  }

  /** Where present tensor {@code i} of {@code newLength} is written. */
  ByteBuffer presentTarget(int i, int newLength) {
    long need = (long) bytes * batch * heads * newLength * headDim;
    if (need > spare[i].capacity()) {
      throw new IllegalStateException(
          "KV cache full: "
              + batch
              + " rows x "
              + newLength
              + " tokens requested, room for "
              + spare[i].capacity() / ((long) bytes * heads * headDim)
              + " token rows");
    }
    return view(spare[i], newLength);
  }

  /**
   * Rebuilds the window: new row {@code r} continues old row {@code sourceRows[r]}, or is empty
   * (zeros) where that is -1, right-aligned in {@code newLength} columns: a longer window pads each
   * row on the left with zeros, a shorter one drops its leftmost columns (which the caller knows to
   * be padding). Storage grows when the new window does not fit.
   */
  public void regather(int[] sourceRows, int newLength) {
    int newBatch = sourceRows.length;
    long tensorBytes = tensorBytes(type, newBatch, heads, headDim, newLength);
    ByteBuffer[] target = spare;
    Storage grown = null;
    if (target.length > 0 && target[0].capacity() < tensorBytes) {
      grown = new Storage(2 * layers, grownSize(tensorBytes));
      target = grown.first;
    }
    int oldRowHead = bytes * length * headDim;
    int newRowHead = bytes * newLength * headDim;
    int kept = bytes * Math.min(length, newLength) * headDim;
    for (int i = 0; i < 2 * layers; i++) {
      ByteBuffer src = current[i];
      ByteBuffer dst = target[i];
      for (int r = 0; r < newBatch; r++) {
        int s = sourceRows[r];
        for (int n = 0; n < heads; n++) {
          int dstAt = (r * heads + n) * newRowHead;
          if (s < 0) {
            zero(dst, dstAt, newRowHead);
            continue;
          }
          int srcAt = (s * heads + n) * oldRowHead + (oldRowHead - kept);
          zero(dst, dstAt, newRowHead - kept);
          dst.put(dstAt + newRowHead - kept, src, srcAt, kept);
        }
      }
    }
    if (grown != null) {
      storage = grown;
      current = grown.first.clone();
      spare = grown.second.clone();
    } else {
      swap();
    }
    batch = newBatch;
    length = newLength;
  }

  /**
   * Writes rows {@code sourceRow .. sourceRow + count} of {@code source} (a cache of the same
   * model, no longer than this one) into rows {@code firstRow ..} of this cache, right-aligned,
   * zero-padded on the left. Rows at or past the end are appended. Only rows that hold nothing live
   * may be overwritten (the caller's duty).
   */
  public void place(int firstRow, KvCache source, int sourceRow, int count) {
    if (source.length > length) {
      throw new IllegalArgumentException(
          "rows of " + source.length + " tokens do not fit a window of " + length);
    }
    int newBatch = Math.max(batch, firstRow + count);
    if (firstRow > batch) {
      throw new IllegalArgumentException("row " + firstRow + " leaves a gap after " + batch);
    }
    long tensorBytes = tensorBytes(type, newBatch, heads, headDim, length);
    if (current.length > 0 && current[0].capacity() < tensorBytes) {
      // Grows storage (and copies the live rows) before writing past its end.
      ensureRoom(tensorBytes);
    }
    int rowHead = bytes * length * headDim;
    int srcRowHead = bytes * source.length * headDim;
    for (int i = 0; i < 2 * layers; i++) {
      ByteBuffer dst = current[i];
      ByteBuffer src = source.current[i];
      for (int j = 0; j < count; j++) {
        for (int n = 0; n < heads; n++) {
          int dstAt = ((firstRow + j) * heads + n) * rowHead;
          int srcAt = ((sourceRow + j) * heads + n) * srcRowHead;
          zero(dst, dstAt, rowHead - srcRowHead);
          dst.put(dstAt + rowHead - srcRowHead, src, srcAt, srcRowHead);
        }
      }
    }
    batch = newBatch;
  }

  /**
   * One row's keys and values of every layer, [2 * layers][heads][length][headDim] flattened: what
   * {@link #loadRows} takes back. float16 values are widened, so that loading them back is exact.
   */
  public float[] row(int row) {
    int perHead = length * headDim;
    float[] out = new float[2 * layers * heads * perHead];
    for (int i = 0; i < 2 * layers; i++) {
      type.read(current[i], row * heads * perHead, out, i * heads * perHead, heads * perHead);
    }
    return out;
  }

  /**
   * Makes this cache's rows hold the given rows (each from {@link #row} of a cache of {@code
   * tokens} columns), as its past of {@code tokens} columns.
   */
  public void loadRows(List<float[]> rows, int tokens) {
    if (rows.size() != batch) {
      throw new IllegalArgumentException("expected " + batch + " rows, got " + rows.size());
    }
    reserve(tokens);
    int perHead = tokens * headDim;
    for (int i = 0; i < 2 * layers; i++) {
      for (int r = 0; r < batch; r++) {
        float[] kv = rows.get(r);
        if (kv.length != 2 * layers * heads * perHead) {
          throw new IllegalArgumentException(
              "row "
                  + r
                  + ": expected "
                  + 2 * layers * heads * perHead
                  + " floats, got "
                  + kv.length);
        }
        type.write(kv, i * heads * perHead, current[i], r * heads * perHead, heads * perHead);
      }
    }
    length = tokens;
  }

  /** Drops rows from the end (rows that hold nothing live any more). */
  public void truncate(int newBatch) {
    if (newBatch > batch || newBatch < 0) {
      throw new IllegalArgumentException("cannot truncate " + batch + " rows to " + newBatch);
    }
    batch = newBatch;
    if (batch == 0) {
      length = 0;
    }
  }

  private void ensureRoom(long tensorBytes) {
    Storage grown = new Storage(2 * layers, grownSize(tensorBytes));
    int block = bytes * batch * heads * length * headDim;
    for (int i = 0; i < 2 * layers; i++) {
      grown.first[i].put(0, current[i], 0, block);
    }
    storage = grown;
    current = grown.first.clone();
    spare = grown.second.clone();
  }

  /**
   * Caps how far storage grows ahead of need: at most {@code tokenRows} token rows per tensor (a
   * window that needs more still gets what it needs).
   */
  public void limitGrowth(long tokenRows) {
    growthLimitBytes = (long) bytes * heads * headDim * tokenRows;
  }

  private long grownSize(long needed) {
    long ahead = Math.min(needed + needed / 2, Math.min(growthLimitBytes, Integer.MAX_VALUE));
    return Math.max(needed, ahead);
  }

  private static final ByteBuffer ZEROS = ByteBuffer.allocate(1 << 16);

  private static void zero(ByteBuffer dst, int at, int bytes) {
    while (bytes > 0) {
      int n = Math.min(bytes, ZEROS.capacity());
      dst.put(at, ZEROS, 0, n);
      at += n;
      bytes -= n;
    }
  }

  /** The step wrote {@code newLength} tokens into the spare buffers: make them current. */
  void advance(int newLength) {
    swap();
    length = newLength;
  }

  /** A scratch direct buffer for {@code count} logits, reused across steps. */
  ByteBuffer logitsTarget(int count) {
    if (storage.logits.capacity() < bytes * count) {
      storage.logits = type.allocate(count);
    }
    return slice(storage.logits, count);
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
    int rowBytes = bytes * heads * length * headDim;
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

  private ByteBuffer view(ByteBuffer buffer, int tokens) {
    return slice(buffer, batch * heads * tokens * headDim);
  }

  /** The first {@code count} elements of {@code buffer}, in native order. */
  private ByteBuffer slice(ByteBuffer buffer, int count) {
    return buffer.duplicate().clear().limit(bytes * count).slice().order(ByteOrder.nativeOrder());
  }
}
