package io.shoplens.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecordBase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every event survives Avro binary encoding with its generated class, optional fields set or not.
 */
class EventRoundTripTest {

  static Stream<Arguments> samples() {
    return SampleEvents.allSamples().entrySet().stream()
        .map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  static byte[] encode(SpecificRecordBase event) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<SpecificRecordBase>(event.getSchema()).write(event, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  static <T extends SpecificRecordBase> T decode(byte[] bytes, Class<T> type) throws IOException {
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
    T event = new SpecificDatumReader<>(type).read(null, decoder);
    assertThat(decoder.isEnd()).as("every byte consumed").isTrue();
    return event;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samples")
  void shouldDecodeToAnEqualEvent(String sample, SpecificRecordBase event) throws IOException {
    // Given a sample event, encoded with its own schema
    byte[] bytes = encode(event);

    // When decoded into its generated class
    SpecificRecordBase decoded = decode(bytes, event.getClass());

    // Then it equals the original, field by field
    assertThat(decoded).isInstanceOf(event.getClass()).isEqualTo(event);
    assertThat(decoded.toString()).isEqualTo(event.toString());
  }

  @Test
  void shouldHaveSamplesForEveryEventOfTheContract() {
    assertThat(SampleEvents.allFull().keySet())
        .containsExactlyElementsOf(EventContract.EVENTS.keySet());
    assertThat(SampleEvents.allMinimal().keySet())
        .containsExactlyElementsOf(EventContract.EVENTS.keySet());
    SampleEvents.allFull()
        .forEach((name, event) -> assertThat(event).isInstanceOf(EventContract.EVENTS.get(name)));
  }

  @Test
  void shouldSetAndLeaveUnsetEveryOptionalPartOfEveryEventAcrossTheSamples() {
    // Given every optional part of every event: nullable fields, arrays, maps, union branches
    for (var event : EventContract.EVENTS.entrySet()) {
      Schema schema = EventContract.currentSchema(event.getKey());
      Collection<String> optional = new TreeSet<>();
      optionalPaths(schema, "", optional);
      assertThat(optional).as(event.getKey()).isNotEmpty();

      // When walking the samples of that event
      Collection<String> set = new TreeSet<>();
      Collection<String> unset = new TreeSet<>();
      for (var sample : SampleEvents.allSamples().entrySet()) {
        if (sample.getKey().startsWith(event.getKey() + "/")) {
          walk(schema, sample.getValue(), "", set, unset);
        }
      }

      // Then each optional part is set in some sample and unset in another
      assertThat(set)
          .as("%s: optional parts set in some sample", event.getKey())
          .containsAll(optional);
      assertThat(unset)
          .as("%s: optional parts left unset in some sample", event.getKey())
          .containsAll(optional);
    }
  }

  /** Paths of the optional parts of a schema: nullable unions, arrays, maps, union branches. */
  private static void optionalPaths(Schema schema, String path, Collection<String> out) {
    switch (schema.getType()) {
      case RECORD ->
          schema.getFields().forEach(f -> optionalPaths(f.schema(), path + "." + f.name(), out));
      case UNION -> {
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() == Schema.Type.NULL) {
            out.add(path);
          } else if (schema.isNullable()) {
            optionalPaths(branch, path, out);
          } else {
            out.add(path + "<" + branch.getName() + ">");
            optionalPaths(branch, path + "<" + branch.getName() + ">", out);
          }
        }
      }
      case ARRAY -> {
        out.add(path);
        optionalPaths(schema.getElementType(), path + "[]", out);
      }
      case MAP -> {
        out.add(path);
        optionalPaths(schema.getValueType(), path + "{}", out);
      }
      default -> {}
    }
  }

  /** Records which optional paths a value sets and which it leaves unset. */
  private static void walk(
      Schema schema, Object value, String path, Collection<String> set, Collection<String> unset) {
    switch (schema.getType()) {
      case RECORD -> {
        IndexedRecord record = (IndexedRecord) value;
        for (Schema.Field f : schema.getFields()) {
          walk(f.schema(), record.get(f.pos()), path + "." + f.name(), set, unset);
        }
      }
      case UNION -> {
        if (value == null) {
          markUnset(schema, path, unset);
          return;
        }
        // A nullable union's branch is its non-null type (its value may be a converted type such as
        // Instant, which GenericData cannot resolve); other unions hold records here.
        Schema branch =
            schema.isNullable()
                ? schema.getTypes().get(1)
                : schema.getTypes().get(SpecificData.get().resolveUnion(schema, value));
        if (schema.isNullable()) {
          set.add(path);
          walk(branch, value, path, set, unset);
        } else {
          for (Schema other : schema.getTypes()) {
            String branchPath = path + "<" + other.getName() + ">";
            if (other.equals(branch)) {
              set.add(branchPath);
              walk(other, value, branchPath, set, unset);
            } else {
              markUnset(other, branchPath, unset);
              unset.add(branchPath);
            }
          }
        }
      }
      case ARRAY -> {
        List<?> items = (List<?>) value;
        if (items.isEmpty()) {
          markUnset(schema, path, unset);
        } else {
          set.add(path);
          items.forEach(item -> walk(schema.getElementType(), item, path + "[]", set, unset));
        }
      }
      case MAP -> {
        Map<?, ?> entries = (Map<?, ?>) value;
        if (entries.isEmpty()) {
          markUnset(schema, path, unset);
        } else {
          set.add(path);
          entries.values().forEach(v -> walk(schema.getValueType(), v, path + "{}", set, unset));
        }
      }
      default -> {}
    }
  }

  /** An absent value leaves every optional part beneath it unset too. */
  private static void markUnset(Schema schema, String path, Collection<String> unset) {
    List<String> beneath = new ArrayList<>();
    optionalPaths(schema, path, beneath);
    unset.addAll(beneath);
    unset.add(path);
  }
}
