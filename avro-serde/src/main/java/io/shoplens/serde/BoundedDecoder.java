package io.shoplens.serde;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.Decoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Avro binary over one payload that refuses a length or a block count larger than the bytes left,
 * before anything is allocated.
 *
 * <p>Avro's own {@link BinaryDecoder} allocates what a length prefix says (up to about 2 GiB by
 * default) and only then finds the payload too short: a 100-byte record with a forged string length
 * makes a consumer allocate gigabytes, an OutOfMemoryError that kills the stream thread instead of
 * dead-lettering one record (found by {@code KafkaAvroDeserializerFuzzTest}). Here a string, bytes
 * or a block of array or map items can never claim more than the rest of the payload: every item of
 * a ShopLens schema takes at least one byte, so a count above the remaining bytes is malformed (an
 * array of {@code null}s, which take no bytes, is limited the same way).
 */
public final class BoundedDecoder extends Decoder {
  private final BinaryDecoder in;

  private BoundedDecoder(BinaryDecoder in) {
    this.in = in;
  }

  /** Reads {@code length} bytes of {@code data} from {@code offset}. */
  public static BoundedDecoder over(byte[] data, int offset, int length) {
    return new BoundedDecoder(DecoderFactory.get().binaryDecoder(data, offset, length, null));
  }

  /** Whether every byte has been read. */
  public boolean isEnd() throws IOException {
    return in.isEnd();
  }

  /** Bytes not read yet. */
  public int remaining() throws IOException {
    return in.inputStream().available();
  }

  private int checkedLength(long length, String what) throws IOException {
    if (length < 0) {
      throw new IOException("Malformed Avro data: negative " + what + " length " + length);
    }
    int left = remaining();
    if (length > left) {
      throw new EOFException(
          "Avro "
              + what
              + " of "
              + length
              + " byte(s) declared, but only "
              + left
              + " byte(s) left in the payload");
    }
    return (int) length;
  }

  private long checkedCount(long count, String what) throws IOException {
    // A negative block count is followed by the block's size in bytes (Avro's skippable blocks):
    // BinaryDecoder handles it, so only the item count is checked, by magnitude.
    long items = Math.abs(count);
    int left = remaining();
    if (items > left) {
      throw new EOFException(
          "Avro "
              + what
              + " block of "
              + items
              + " item(s) declared, but only "
              + left
              + " byte(s) left in the payload");
    }
    return count;
  }

  @Override
  public void readNull() throws IOException {
    in.readNull();
  }

  @Override
  public boolean readBoolean() throws IOException {
    return in.readBoolean();
  }

  @Override
  public int readInt() throws IOException {
    return in.readInt();
  }

  @Override
  public long readLong() throws IOException {
    return in.readLong();
  }

  @Override
  public float readFloat() throws IOException {
    return in.readFloat();
  }

  @Override
  public double readDouble() throws IOException {
    return in.readDouble();
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = checkedLength(in.readLong(), "string");
    Utf8 result = old != null ? old : new Utf8();
    result.setByteLength(length);
    if (length > 0) {
      in.readFixed(result.getBytes(), 0, length);
    }
    return result;
  }

  @Override
  public String readString() throws IOException {
    return readString(null).toString();
  }

  @Override
  public void skipString() throws IOException {
    in.skipFixed(checkedLength(in.readLong(), "string"));
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int length = checkedLength(in.readLong(), "bytes");
    ByteBuffer result;
    if (old != null && length <= old.capacity()) {
      result = old;
      result.clear();
    } else {
      result = ByteBuffer.allocate(length);
    }
    in.readFixed(result.array(), result.position(), length);
    result.limit(length);
    return result;
  }

  @Override
  public void skipBytes() throws IOException {
    in.skipFixed(checkedLength(in.readLong(), "bytes"));
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    in.readFixed(bytes, start, checkedLength(length, "fixed"));
  }

  @Override
  public void skipFixed(int length) throws IOException {
    in.skipFixed(checkedLength(length, "fixed"));
  }

  @Override
  public int readEnum() throws IOException {
    return in.readEnum();
  }

  @Override
  public long readArrayStart() throws IOException {
    return checkedCount(in.readArrayStart(), "array");
  }

  @Override
  public long arrayNext() throws IOException {
    return checkedCount(in.arrayNext(), "array");
  }

  @Override
  public long skipArray() throws IOException {
    return checkedCount(in.skipArray(), "array");
  }

  @Override
  public long readMapStart() throws IOException {
    return checkedCount(in.readMapStart(), "map");
  }

  @Override
  public long mapNext() throws IOException {
    return checkedCount(in.mapNext(), "map");
  }

  @Override
  public long skipMap() throws IOException {
    return checkedCount(in.skipMap(), "map");
  }

  @Override
  public int readIndex() throws IOException {
    return in.readIndex();
  }
}
