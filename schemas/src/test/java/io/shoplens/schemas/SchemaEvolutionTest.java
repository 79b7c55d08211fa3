package io.shoplens.schemas;

import static io.shoplens.schemas.SchemaEdits.field;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProcessingStage;
import io.shoplens.events.QuestionAsked;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParser;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * Data crosses schema versions through Avro's writer-to-reader resolution: an old producer's events
 * are read by current code (BACKWARD), and current events by an old consumer (FORWARD) where the
 * change allows it.
 */
class SchemaEvolutionTest {

  /** Generic records with Instant for timestamp-millis, as the generated classes use. */
  private static final GenericData GENERIC = new GenericData();

  static {
    GENERIC.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
  }

  private static Schema questionAskedV0() throws IOException {
    try (InputStream in =
        SchemaEvolutionTest.class.getResourceAsStream("/evolution/QuestionAsked-v0.avsc")) {
      return new SchemaParser().parse(in).mainSchema();
    }
  }

  private static byte[] write(Schema writer, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(writer, GENERIC).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static byte[] write(QuestionAsked event) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<QuestionAsked>(QuestionAsked.class).write(event, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  @Test
  void shouldReadAnOldProducersQuestionWithTheCurrentClass() throws IOException {
    // Given a question written by a producer that still uses v0 (no conversation, no options)
    Schema v0 = questionAskedV0();
    GenericRecord old = new GenericData.Record(v0);
    old.put("questionId", "question-0001");
    old.put("uploadId", "upload-0001");
    old.put("userId", "user-42");
    old.put("text", "Is it waterproof?");
    old.put("askedAt", SampleEvents.T0);
    byte[] bytes = write(v0, old);

    // When current code reads it, resolving v0 (writer) against the current schema (reader)
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
    QuestionAsked read =
        new SpecificDatumReader<QuestionAsked>(v0, QuestionAsked.getClassSchema())
            .read(null, decoder);

    // Then the known fields carry over and the new optional fields take their defaults
    assertThat(decoder.isEnd()).isTrue();
    assertThat(read)
        .isEqualTo(
            QuestionAsked.newBuilder()
                .setQuestionId("question-0001")
                .setUploadId("upload-0001")
                .setUserId("user-42")
                .setText("Is it waterproof?")
                .setAskedAt(SampleEvents.T0)
                .build());
    assertThat(read.getConversationId()).isNull();
    assertThat(read.getGenerationOptions()).isNull();
  }

  @Test
  void shouldLetAnOldConsumerReadACurrentQuestion() throws IOException {
    // Given a current question with every optional field set
    QuestionAsked current = SampleEvents.questionAskedFull();
    byte[] bytes = write(current);

    // When a consumer that still uses v0 reads it (current writer, v0 reader)
    Schema v0 = questionAskedV0();
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
    GenericRecord read =
        new GenericDatumReader<GenericRecord>(QuestionAsked.getClassSchema(), v0, GENERIC)
            .read(null, decoder);

    // Then it sees the fields it knows, and the new ones are skipped
    assertThat(decoder.isEnd()).isTrue();
    assertThat(read.getSchema()).isEqualTo(v0);
    assertThat(read.get("questionId")).hasToString(current.getQuestionId());
    assertThat(read.get("uploadId")).hasToString(current.getUploadId());
    assertThat(read.get("userId")).hasToString(current.getUserId());
    assertThat(read.get("text")).hasToString(current.getText());
    assertThat(read.get("askedAt")).isEqualTo(current.getAskedAt());
    assertThat(read.hasField("generationOptions")).isFalse();
  }

  @Test
  void shouldFindTheV0ChangeFullyCompatibleWithAvrosChecker() throws IOException {
    Schema v0 = questionAskedV0();
    Schema current = EventContract.currentSchema("QuestionAsked");
    assertThat(CompatibilityChecker.backwardProblems("QuestionAsked", current, v0, "v0"))
        .as("current reads v0 (BACKWARD)")
        .isEmpty();
    assertThat(CompatibilityChecker.backwardProblems("QuestionAsked", v0, current, "current"))
        .as("v0 reads current (FORWARD)")
        .isEmpty();
  }

  @Test
  void shouldReadAnEnumSymbolFromANewerProducerAsUnknown() throws IOException {
    // Given a newer DeadLetter schema whose ProcessingStage has a symbol this code does not know
    Schema newer =
        SchemaEdits.edit(
            DeadLetter.getClassSchema(),
            root ->
                ((ArrayNode) field(root, "stage").get("type").get("symbols")).add("RATE_LIMIT"));
    GenericRecord event = (GenericRecord) GENERIC.deepCopy(newer, SampleEvents.deadLetterFull());
    event.put("stage", GENERIC.createEnum("RATE_LIMIT", newer.getField("stage").schema()));
    byte[] bytes = write(newer, event);

    // When current code reads it
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
    DeadLetter read =
        new SpecificDatumReader<DeadLetter>(newer, DeadLetter.getClassSchema()).read(null, decoder);

    // Then the unknown symbol becomes the enum's default, and everything else is intact
    assertThat(decoder.isEnd()).isTrue();
    assertThat(read.getStage()).isEqualTo(ProcessingStage.UNKNOWN);
    DeadLetter expected = SampleEvents.deadLetterFull();
    expected.setStage(ProcessingStage.UNKNOWN);
    assertThat(read).isEqualTo(expected);
  }
}
