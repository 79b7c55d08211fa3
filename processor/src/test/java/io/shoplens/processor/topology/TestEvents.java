package io.shoplens.processor.topology;

import io.shoplens.events.ImageReference;
import io.shoplens.events.ImageUploaded;
import io.shoplens.events.InlineImage;
import io.shoplens.events.QuestionAsked;
import io.shoplens.processor.testing.DriverTopics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.zip.CRC32;

/** Inputs for topology tests: uploads, questions, and images good and bad. */
final class TestEvents {
  static final Instant T0 = DriverTopics.T0;
  private static final Path IMAGES = Path.of("src/test/resources/images");

  private TestEvents() {}

  static byte[] image(String name) {
    try {
      return Files.readAllBytes(IMAGES.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A small valid PNG from the fixtures. */
  static byte[] goodImage() {
    return image("tiny.png");
  }

  /** The fixture JPEG cut after its header: a decoder sees a JPEG and fails on the data. */
  static byte[] corruptJpeg() {
    byte[] jpeg = image("photo.jpg");
    byte[] cut = Arrays.copyOf(jpeg, Math.min(jpeg.length, 400));
    Arrays.fill(cut, 200, cut.length, (byte) 0x5A);
    return cut;
  }

  /** A PNG header declaring 10000 x 10000 pixels (100 megapixels) and no pixel data. */
  static byte[] hundredMegapixelPngHeader() {
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(10_000).putInt(10_000).put((byte) 8).put((byte) 2).put((byte) 0);
    ihdr.put((byte) 0).put((byte) 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    out.writeBytes(chunk("IHDR", ihdr.array()));
    out.writeBytes(chunk("IEND", new byte[0]));
    return out.toByteArray();
  }

  private static byte[] chunk(String type, byte[] data) {
    byte[] t = type.getBytes(StandardCharsets.US_ASCII);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    return ByteBuffer.allocate(12 + data.length)
        .putInt(data.length)
        .put(t)
        .put(data)
        .putInt((int) crc.getValue())
        .array();
  }

  static ImageUploaded upload(String uploadId, byte[] image) {
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId("user-" + uploadId)
        .setProductId(null)
        .setImage(new InlineImage(ByteBuffer.wrap(image), "image/png"))
        .setUploadedAt(T0)
        .build();
  }

  static ImageUploaded referencedUpload(String uploadId, String uri) {
    return ImageUploaded.newBuilder()
        .setUploadId(uploadId)
        .setUserId("user-" + uploadId)
        .setImage(
            ImageReference.newBuilder()
                .setUri(uri)
                .setSha256("0".repeat(64))
                .setContentType("image/png")
                .setSizeBytes(1234)
                .build())
        .setUploadedAt(T0)
        .build();
  }

  static QuestionAsked question(String questionId, String uploadId, String text) {
    return question(questionId, uploadId, null, text);
  }

  static QuestionAsked question(
      String questionId, String uploadId, String conversationId, String text) {
    return QuestionAsked.newBuilder()
        .setQuestionId(questionId)
        .setUploadId(uploadId)
        .setUserId("asker")
        .setConversationId(conversationId)
        .setText(text)
        .setGenerationOptions(null)
        .setAskedAt(T0)
        .build();
  }

  /** Confluent wire format with a schema id no registry has: magic 0, id, some payload. */
  static byte[] unknownSchemaId() {
    return ByteBuffer.allocate(9).put((byte) 0).putInt(987_654).putInt(42).array();
  }
}
