package io.shoplens.processor.topology;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.ToIntFunction;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The compact binary form of ShopLens's own values that carry float vectors ({@code CatalogEntry}),
 * which JSON or Avro-as-doubles would triple: a format-version byte, so that a later layout can
 * still read this one, then the value's fields. A null value is a tombstone both ways; bytes of
 * another format, or bytes that do not read, fail with a {@link SerializationException} that names
 * the value.
 *
 * @param <T> the value type
 */
public final class BinaryFormat<T> {
  /** Writes a value's fields, after the format byte. */
  @FunctionalInterface
  public interface Writer<T> {
    void write(T value, DataOutputStream out) throws IOException;
  }

  /** Reads a value's fields, after the format byte; {@code length} is the whole record's. */
  @FunctionalInterface
  public interface Reader<T> {
    T read(DataInputStream in, int length) throws IOException;
  }

  private final String name;
  private final byte format;
  private final ToIntFunction<T> sizeHint;
  private final Writer<T> writer;
  private final Reader<T> reader;

  /**
   * @param name what a value is, for messages ("catalog entry")
   * @param format the version byte this layout writes and reads
   * @param sizeHint roughly the bytes of a value, to size the buffer once
   */
  public BinaryFormat(
      String name, byte format, ToIntFunction<T> sizeHint, Writer<T> writer, Reader<T> reader) {
    this.name = name;
    this.format = format;
    this.sizeHint = sizeHint;
    this.writer = writer;
    this.reader = reader;
  }

  public Serde<T> serde() {
    Serializer<T> serializer = (topic, value) -> value == null ? null : write(value);
    Deserializer<T> deserializer = (topic, data) -> data == null ? null : read(data);
    return Serdes.serdeFrom(serializer, deserializer);
  }

  public byte[] write(T value) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(sizeHint.applyAsInt(value));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(format);
      writer.write(value, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return bytes.toByteArray();
  }

  public T read(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      byte found = in.readByte();
      if (found != format) {
        throw new SerializationException(
            name + " format " + found + " is not readable, expected " + format);
      }
      return reader.read(in, data.length);
    } catch (IOException | RuntimeException e) {
      String article = "aeiou".indexOf(name.charAt(0)) >= 0 ? "an " : "a ";
      throw new SerializationException(
          "cannot read " + article + name + " from " + data.length + " bytes: " + e, e);
    }
  }
}
