package io.shoplens.serde;

import io.shoplens.registry.IncompatibleSchemaException;
import io.shoplens.registry.RestClientException;
import io.shoplens.registry.SchemaMetadata;
import io.shoplens.registry.SchemaNotFoundException;
import io.shoplens.registry.SchemaRegistryClient;
import io.shoplens.registry.SubjectNotFoundException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericContainer;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificFixed;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro data in Confluent's wire format: magic byte 0, the schema's registry id (4 bytes,
 * big-endian), then the Avro binary encoding. Like Confluent's {@code KafkaAvroSerializer}.
 *
 * <p>Accepts generated {@link SpecificRecord}s, {@link org.apache.avro.generic.GenericContainer}s
 * (generic records, enums, fixed, arrays) and the primitives null, Boolean, Integer, Long, Float,
 * Double, CharSequence, byte[] and ByteBuffer. As in Confluent's serializer, a byte[] or ByteBuffer
 * is written raw after the prefix, without Avro's length.
 *
 * <p>The schema id comes from, in order: {@code use.latest.version} (the subject's latest schema,
 * to which the record is converted by Avro resolution), {@code auto.register.schemas} (register the
 * record's schema), else a look-up of the record's schema under its subject. A null value is
 * written as null (a tombstone). Every failure is a {@link SerializationException} naming topic,
 * subject and schema; registry outages are {@link RetriableSerializationException}s.
 */
public class KafkaAvroSerializer extends AbstractKafkaAvroSerDe implements Serializer<Object> {

  private record SubjectSchema(String subject, Schema schema) {}

  private record Latest(SchemaMetadata metadata, Schema schema, long fetchedAtNanos) {}

  // Keyed by Schema (cached hash, identity fast path) to avoid the JSON text per record.
  private final ConcurrentMap<SubjectSchema, Integer> ids = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Latest> latest = new ConcurrentHashMap<>();
  // Separate, because a specific writer applies its class's conversions to what it writes.
  private final ConcurrentMap<Schema, DatumWriter<Object>> specificWriters =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<Schema, DatumWriter<Object>> genericWriters =
      new ConcurrentHashMap<>();

  /** For Kafka to construct and then {@link #configure}. */
  public KafkaAvroSerializer() {
    super(null);
  }

  /** Uses {@code registry} with the default settings (as a value serializer). */
  public KafkaAvroSerializer(SchemaRegistryClient registry) {
    this(registry, Map.of());
  }

  /** Uses {@code registry} with {@code configs}, as a value serializer. */
  public KafkaAvroSerializer(SchemaRegistryClient registry, Map<String, ?> configs) {
    super(registry);
    configure(configs, false);
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    configureSerDe(configs, isKey);
  }

  @Override
  public byte[] serialize(String topic, Object data) {
    requireConfigured();
    if (data == null) {
      return null;
    }
    Schema schema = schemaOf(topic, data);
    String subject = subjectNameStrategy.subjectName(topic, isKey, schema);
    if (config.getBoolean(KafkaAvroSerDeConfig.USE_LATEST_VERSION_CONFIG)) {
      return serializeWithLatest(topic, subject, schema, data);
    }
    int id = idOf(topic, subject, schema);
    return write(topic, subject, id, schema, data);
  }

  @Override
  public byte[] serialize(String topic, Headers headers, Object data) {
    return serialize(topic, data);
  }

  private int idOf(String topic, String subject, Schema schema) {
    SubjectSchema key = new SubjectSchema(subject, schema);
    Integer cached = ids.get(key);
    if (cached != null) {
      return cached;
    }
    boolean autoRegister = config.getBoolean(KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG);
    int id;
    try {
      id = autoRegister ? registry.register(subject, schema) : registry.getId(subject, schema);
    } catch (IncompatibleSchemaException e) {
      throw new SerializationException(
          "Cannot register the schema of "
              + schema.getFullName()
              + " for "
              + where(topic, subject, null)
              + ": it is incompatible with the subject's registered versions: "
              + e.getMessage(),
          e);
    } catch (SchemaNotFoundException | SubjectNotFoundException e) {
      throw new SerializationException(
          "Schema of "
              + schema.getFullName()
              + " is not registered for "
              + where(topic, subject, null)
              + " and "
              + KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG
              + "=false: "
              + e.getMessage(),
          e);
    } catch (IOException | RestClientException e) {
      throw registryFailure(
          (autoRegister ? "Cannot register" : "Cannot look up")
              + " the schema of "
              + schema.getFullName()
              + " for "
              + where(topic, subject, null),
          e);
    }
    if (ids.size() >= 10_000) {
      // A bound for generic producers that mint schemas; real apps have a handful.
      ids.clear();
    }
    ids.put(key, id);
    return id;
  }

  private byte[] serializeWithLatest(String topic, String subject, Schema schema, Object data) {
    Latest current = latest(topic, subject);
    Schema target = current.schema();
    int id = current.metadata().id();
    if (target.equals(schema)) {
      return write(topic, subject, id, schema, data);
    }
    String ref = "id " + id + " (version " + current.metadata().version() + ")";
    if (config.getBoolean(KafkaAvroSerDeConfig.LATEST_COMPATIBILITY_STRICT_CONFIG)
        && SchemaCompatibility.checkReaderWriterCompatibility(target, schema).getType()
            != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      throw new SerializationException(
          "The latest schema of "
              + where(topic, subject, ref)
              + " cannot read records of schema "
              + schema.getFullName()
              + " ("
              + KafkaAvroSerDeConfig.LATEST_COMPATIBILITY_STRICT_CONFIG
              + "=true)");
    }
    // Convert by Avro resolution: encode with the record's own schema, read as the latest.
    byte[] own = write(topic, subject, id, schema, data);
    try {
      Object converted =
          new GenericDatumReader<Object>(schema, target)
              .read(
                  null,
                  DecoderFactory.get()
                      .binaryDecoder(
                          own, WireFormat.PREFIX_SIZE, own.length - WireFormat.PREFIX_SIZE, null));
      return encode(topic, subject, id, new GenericDatumWriter<>(target), converted);
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "Cannot convert a record of schema "
              + schema.getFullName()
              + " to the latest schema of "
              + where(topic, subject, ref)
              + ": "
              + e,
          e);
    }
  }

  private Latest latest(String topic, String subject) {
    long ttlSeconds = config.getLong(KafkaAvroSerDeConfig.LATEST_CACHE_TTL_SEC_CONFIG);
    Latest cached = latest.get(subject);
    if (cached != null
        && (ttlSeconds < 0 || System.nanoTime() - cached.fetchedAtNanos() < ttlSeconds * 1e9)) {
      return cached;
    }
    try {
      SchemaMetadata metadata = registry.getLatestSchemaMetadata(subject);
      Latest fresh = new Latest(metadata, metadata.avroSchema(), System.nanoTime());
      latest.put(subject, fresh);
      return fresh;
    } catch (SubjectNotFoundException e) {
      throw new SerializationException(
          "No schema registered for "
              + where(topic, subject, null)
              + " to serialize with ("
              + KafkaAvroSerDeConfig.USE_LATEST_VERSION_CONFIG
              + "=true): "
              + e.getMessage(),
          e);
    } catch (IOException | RestClientException e) {
      throw registryFailure("Cannot fetch the latest schema of " + where(topic, subject, null), e);
    }
  }

  private byte[] write(String topic, String subject, int id, Schema schema, Object data) {
    if (schema.getType() == Schema.Type.BYTES) {
      // Confluent's format: raw bytes after the prefix, no Avro length.
      byte[] raw = data instanceof byte[] b ? b : toArray((ByteBuffer) data);
      return ByteBuffer.allocate(WireFormat.PREFIX_SIZE + raw.length)
          .put(WireFormat.MAGIC_BYTE)
          .putInt(id)
          .put(raw)
          .array();
    }
    DatumWriter<Object> writer =
        isSpecific(data)
            ? specificWriters.computeIfAbsent(
                schema,
                s -> new SpecificDatumWriter<>(s, SpecificData.getForClass(data.getClass())))
            : genericWriters.computeIfAbsent(schema, s -> new GenericDatumWriter<>(s, genericData));
    return encode(topic, subject, id, writer, data);
  }

  private byte[] encode(
      String topic, String subject, int id, DatumWriter<Object> writer, Object data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    out.write(WireFormat.MAGIC_BYTE);
    out.writeBytes(ByteBuffer.allocate(WireFormat.ID_SIZE).putInt(id).array());
    try {
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      writer.write(data, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      // Avro reports a missing required field or a wrong type as a runtime exception.
      throw new SerializationException(
          "Cannot serialize a "
              + data.getClass().getName()
              + " for "
              + where(topic, subject, "id " + id)
              + ": "
              + e,
          e);
    }
    return out.toByteArray();
  }

  private static boolean isSpecific(Object data) {
    // The class's own model carries its logical-type conversions (Instant for timestamps).
    return data instanceof SpecificRecord
        || data instanceof Enum<?>
        || data instanceof SpecificFixed;
  }

  private Schema schemaOf(String topic, Object data) {
    if (data instanceof GenericContainer container) {
      return container.getSchema();
    }
    Schema.Type type;
    if (data instanceof Boolean) {
      type = Schema.Type.BOOLEAN;
    } else if (data instanceof Integer) {
      type = Schema.Type.INT;
    } else if (data instanceof Long) {
      type = Schema.Type.LONG;
    } else if (data instanceof Float) {
      type = Schema.Type.FLOAT;
    } else if (data instanceof Double) {
      type = Schema.Type.DOUBLE;
    } else if (data instanceof CharSequence) {
      type = Schema.Type.STRING;
    } else if (data instanceof byte[] || data instanceof ByteBuffer) {
      type = Schema.Type.BYTES;
    } else {
      throw new SerializationException(
          "Cannot serialize a "
              + data.getClass().getName()
              + " for "
              + where(topic, null, null)
              + ": expected an Avro record (SpecificRecord or GenericContainer) or a primitive");
    }
    return Schema.create(type);
  }

  private static byte[] toArray(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  @Override
  public void close() {
    closeRegistry();
  }
}
