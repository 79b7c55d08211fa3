package io.shoplens.serde;

import io.shoplens.registry.RestClientException;
import io.shoplens.registry.SchemaNotFoundException;
import io.shoplens.registry.SchemaRegistryClient;
import java.io.EOFException;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DatumReader;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent's wire format: magic byte 0, 4-byte big-endian schema id, Avro binary. Like
 * Confluent's {@code KafkaAvroDeserializer}.
 *
 * <p>When the record carries a {@code __value_schema_id} (or {@code __key_schema_id}) header, the
 * header names the schema (byte 1 then a 16-byte GUID, or byte 0 then a 4-byte id) and the whole
 * payload is Avro binary.
 *
 * <p>Returns generic records (strings of primitive schemas as {@link String}, bytes as {@code
 * byte[]}), or, with {@code specific.avro.reader} or a reader type, instances of the generated
 * class: the writer schema is resolved to the class's {@code SCHEMA$}, so data written by an older
 * or newer producer is read within Avro's resolution rules. Null bytes read as null (a tombstone).
 *
 * <p>Never returns null for a non-null payload: an unknown magic byte, an unknown schema id, a
 * truncated payload, bytes left over after the record or an unreachable registry is a {@link
 * SerializationException} naming topic, subject (when known) and schema id; the last is a {@link
 * RetriableSerializationException}.
 */
public class KafkaAvroDeserializer extends AbstractKafkaAvroSerDe implements Deserializer<Object> {

  private record Resolved(Schema writer, DatumReader<Object> reader) {}

  private final Class<?> readerType;
  private Class<?> configuredType;
  private boolean specific;
  // Keyed by "id:<n>" or "guid:<g>"; the reader depends only on the writer schema and settings.
  private final ConcurrentMap<String, Resolved> readers = new ConcurrentHashMap<>();

  /** For Kafka to construct and then {@link #configure}. */
  public KafkaAvroDeserializer() {
    this(null, null, null);
  }

  /** Uses {@code registry} with the default settings (as a value deserializer). */
  public KafkaAvroDeserializer(SchemaRegistryClient registry) {
    this(registry, Map.of());
  }

  /** Uses {@code registry} with {@code configs}, as a value deserializer. */
  public KafkaAvroDeserializer(SchemaRegistryClient registry, Map<String, ?> configs) {
    this(registry, configs, null);
  }

  /**
   * Reads every record into {@code readerType} (a generated class), whatever the writer schema's
   * name, by Avro resolution.
   *
   * @param registry the registry, or null to create one from the configuration
   * @param configs settings, or null to wait for {@link #configure}
   * @param readerType the class to read into, or null to decide by configuration
   */
  public KafkaAvroDeserializer(
      SchemaRegistryClient registry,
      Map<String, ?> configs,
      Class<? extends SpecificRecord> readerType) {
    super(registry);
    this.readerType = readerType;
    if (configs != null) {
      configure(configs, false);
    }
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    configureSerDe(configs, isKey);
    readers.clear();
    this.configuredType = readerType != null ? readerType : config.specificType(isKey);
    if (configuredType != null && !SpecificRecord.class.isAssignableFrom(configuredType)) {
      throw new ConfigException(
          "The Avro reader type " + configuredType.getName() + " is not a SpecificRecord");
    }
    this.specific =
        configuredType != null
            || config.getBoolean(KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG);
  }

  @Override
  public Object deserialize(String topic, byte[] data) {
    return deserialize(topic, null, data);
  }

  @Override
  public Object deserialize(String topic, Headers headers, byte[] data) {
    requireConfigured();
    if (data == null) {
      return null;
    }
    // The subject is known before the schema only under a topic-based strategy.
    String subject =
        subjectNameStrategy.usesSchema()
            ? null
            : subjectNameStrategy.subjectName(topic, isKey, null);

    Header header = headers == null ? null : headers.lastHeader(WireFormat.schemaIdHeader(isKey));
    WireFormat.SchemaReference schema;
    int offset;
    if (header != null) {
      byte[] value = header.value();
      schema = WireFormat.fromHeader(value);
      if (schema == null) {
        throw new SerializationException(
            "Unknown schema id header "
                + header.key()
                + " "
                + describeBytes(value)
                + " for "
                + where(topic, subject, null)
                + ": expected byte 1 and a 16-byte GUID, or byte 0 and a 4-byte id");
      }
      offset = 0;
    } else {
      if (data.length < WireFormat.PREFIX_SIZE) {
        throw new SerializationException(
            "Truncated payload of "
                + data.length
                + " byte(s) for "
                + where(topic, subject, null)
                + ": the Confluent wire format needs at least "
                + WireFormat.PREFIX_SIZE
                + " (magic byte and schema id)");
      }
      if (data[0] != WireFormat.MAGIC_BYTE) {
        throw new SerializationException(
            String.format(
                "Unknown magic byte 0x%02x for %s: expected 0x00 (Confluent wire format)",
                data[0] & 0xff, where(topic, subject, null)));
      }
      schema = WireFormat.fromPayload(data);
      offset = WireFormat.PREFIX_SIZE;
    }
    String ref = schema.describe();
    String cacheKey = schema.id() != null ? "id:" + schema.id() : "guid:" + schema.guid();

    Resolved resolved = readers.get(cacheKey);
    if (resolved == null) {
      resolved = resolve(topic, subject, ref, schema.id(), schema.guid());
      readers.put(cacheKey, resolved);
    }
    if (subject == null) {
      subject = subjectNameStrategy.subjectName(topic, isKey, resolved.writer());
    }
    return read(topic, subject, ref, resolved, data, offset);
  }

  private Resolved resolve(String topic, String subject, String ref, Integer id, String guid) {
    Schema writer;
    try {
      writer =
          id != null
              ? registry.getSchemaBySubjectAndId(subject, id)
              : registry.getSchemaByGuid(guid);
    } catch (SchemaNotFoundException e) {
      throw new SerializationException(
          "Unknown schema " + ref + " for " + where(topic, subject, ref) + ": " + e.getMessage(),
          e);
    } catch (IOException | RestClientException e) {
      throw registryFailure("Cannot fetch the writer schema for " + where(topic, subject, ref), e);
    }
    return new Resolved(writer, readerFor(topic, subject, ref, writer));
  }

  @SuppressWarnings("unchecked")
  private DatumReader<Object> readerFor(String topic, String subject, String ref, Schema writer) {
    boolean named =
        writer.getType() == Schema.Type.RECORD
            || writer.getType() == Schema.Type.ENUM
            || writer.getType() == Schema.Type.FIXED;
    if (!specific || (!named && configuredType == null)) {
      return new GenericDatumReader<>(writer, writer, genericData);
    }
    Class<?> type = configuredType;
    if (type == null) {
      type = SpecificData.get().getClass(writer);
      if (type == null) {
        throw new SerializationException(
            "No generated class "
                + writer.getFullName()
                + " on the class path to read "
                + where(topic, subject, ref)
                + " into ("
                + KafkaAvroSerDeConfig.SPECIFIC_AVRO_READER_CONFIG
                + "=true)");
      }
    }
    SpecificData model = SpecificData.getForClass(type);
    Schema reader = model.getSchema(type);
    return (DatumReader<Object>) (DatumReader<?>) new SpecificDatumReader<>(writer, reader, model);
  }

  private Object read(
      String topic, String subject, String ref, Resolved resolved, byte[] data, int offset) {
    int length = data.length - offset;
    Schema.Type type = resolved.writer().getType();
    if (type == Schema.Type.BYTES) {
      // Confluent's format: raw bytes after the prefix, no Avro length.
      return Arrays.copyOfRange(data, offset, data.length);
    }
    // Bounded: a forged length must not allocate more than the payload holds (see BoundedDecoder).
    BoundedDecoder decoder = BoundedDecoder.over(data, offset, length);
    Object value;
    try {
      value = resolved.reader().read(null, decoder);
    } catch (EOFException e) {
      throw new SerializationException(
          "Truncated Avro payload ("
              + length
              + " byte(s) after the prefix) for "
              + where(topic, subject, ref)
              + ": ended before the record did",
          e);
    } catch (IOException | RuntimeException e) {
      // Avro reports malformed input (negative lengths, bad union indexes) as runtime exceptions.
      throw new SerializationException(
          "Malformed Avro payload for " + where(topic, subject, ref) + ": " + e, e);
    }
    try {
      if (!decoder.isEnd()) {
        throw new SerializationException(
            "Trailing garbage: "
                + decoder.remaining()
                + " byte(s) left after the record for "
                + where(topic, subject, ref)
                + " (payload of "
                + length
                + " byte(s) after the prefix)");
      }
    } catch (IOException e) {
      throw new SerializationException("Cannot check the end of " + where(topic, subject, ref), e);
    }
    if (type == Schema.Type.STRING && value instanceof CharSequence s) {
      return s.toString();
    }
    return value;
  }

  private static String describeBytes(byte[] value) {
    if (value == null) {
      return "(null)";
    }
    StringBuilder s = new StringBuilder("of ").append(value.length).append(" byte(s) [");
    for (int i = 0; i < Math.min(value.length, 8); i++) {
      s.append(String.format("%s%02x", i == 0 ? "" : " ", value[i] & 0xff));
    }
    return s.append(value.length > 8 ? " ...]" : "]").toString();
  }

  @Override
  public void close() {
    closeRegistry();
  }
}
