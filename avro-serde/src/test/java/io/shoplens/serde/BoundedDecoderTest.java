package io.shoplens.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

class BoundedDecoderTest {
  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static final Schema RECORD =
      SchemaBuilder.record("Everything")
          .namespace("io.shoplens.test")
          .fields()
          .requiredString("name")
          .requiredBytes("blob")
          .name("tags")
          .type()
          .array()
          .items()
          .stringType()
          .noDefault()
          .name("counts")
          .type()
          .map()
          .values()
          .longType()
          .noDefault()
          .name("hash")
          .type()
          .fixed("Hash")
          .size(4)
          .noDefault()
          .optionalString("note")
          .endRecord();

  @Test
  void shouldReadEverythingBinaryDecoderReads() throws IOException {
    // Given a record using every length-prefixed type, written by Avro
    GenericRecord record = new GenericData.Record(RECORD);
    record.put("name", "bag");
    record.put("blob", ByteBuffer.wrap(new byte[] {1, 2, 3}));
    record.put("tags", List.of("red", "leather"));
    record.put("counts", Map.of("views", 3L));
    record.put("hash", new GenericData.Fixed(RECORD.getField("hash").schema(), new byte[4]));
    record.put("note", null);
    byte[] bytes = write(record);

    // When read through the bounded decoder
    BoundedDecoder decoder = BoundedDecoder.over(bytes, 0, bytes.length);
    Object read = new GenericDatumReader<>(RECORD).read(null, decoder);

    // Then it is the same record, and every byte was read
    assertThat(read.toString()).isEqualTo(record.toString());
    assertThat(decoder.isEnd()).isTrue();
  }

  @Test
  void shouldRefuseAForgedStringLengthWithoutAllocatingIt() {
    // Given a string whose length prefix says one billion bytes, in an 8-byte payload
    byte[] bytes = {(byte) 0x80, (byte) 0xa8, (byte) 0xd6, (byte) 0xb9, 0x07, 'a', 'b', 'c'};
    BoundedDecoder decoder = BoundedDecoder.over(bytes, 0, bytes.length);
    long thread = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(thread);

    // When read, then it is refused as truncated, having allocated next to nothing
    assertThatThrownBy(() -> decoder.readString(null))
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("1000000000 byte(s) declared, but only 3 byte(s) left");
    assertThat(THREADS.getThreadAllocatedBytes(thread) - before).isLessThan(1024 * 1024);
  }

  @Test
  void shouldRefuseAnArrayBlockCountLargerThanTheBytesLeft() {
    // Given an array block that claims one billion items, with 3 bytes after it
    byte[] bytes = {(byte) 0x80, (byte) 0xa8, (byte) 0xd6, (byte) 0xb9, 0x07, 0, 0, 0};
    BoundedDecoder decoder = BoundedDecoder.over(bytes, 0, bytes.length);

    // When its start is read, then it is refused before any item is allocated
    assertThatThrownBy(decoder::readArrayStart)
        .isInstanceOf(EOFException.class)
        .hasMessageContaining("array block of 1000000000 item(s)");
  }

  private static byte[] write(GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(RECORD).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }
}
