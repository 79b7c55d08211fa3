package io.shoplens.connect;

import io.shoplens.registry.IncompatibleSchemaException;
import io.shoplens.registry.RestClientException;
import io.shoplens.registry.SchemaMetadata;
import io.shoplens.registry.SchemaNotFoundException;
import io.shoplens.registry.SchemaRegistryClient;
import io.shoplens.registry.SchemaRegistryClientFactory;
import io.shoplens.registry.SubjectNotFoundException;
import io.shoplens.serde.BoundedDecoder;
import io.shoplens.serde.KafkaAvroSerDeConfig;
import io.shoplens.serde.SubjectNameStrategy;
import io.shoplens.serde.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.storage.Converter;

/**
 * A Kafka Connect {@link Converter} for Confluent's Avro wire format (magic byte 0, 4-byte
 * big-endian schema id, Avro binary), talking to a Confluent-compatible Schema Registry through
 * ShopLens's client. A drop-in for {@code io.confluent.connect.avro.AvroConverter}: same settings
 * ({@link AvroConverterConfig}), same Avro ↔ Connect mapping ({@link AvroData}), so topics written
 * by either can be read by the other.
 *
 * <p>Writing: the Connect schema is mapped to an Avro schema, whose id comes from {@code
 * use.latest.version} (the subject's latest schema; the data is converted to it by Avro
 * resolution), {@code auto.register.schemas} (register it, the default) or a look-up. A null value
 * is written as null (a tombstone). Reading: the writer schema is fetched by id (or by the GUID or
 * id in a {@code __value_schema_id}/{@code __key_schema_id} header); under a topic-based subject
 * name strategy the Connect schema's version is the registry version of that schema in the subject
 * when the schema carries none itself.
 *
 * <p>Errors: bad data or schemas are {@link DataException}s; a registry that cannot be reached or
 * answers 408, 429 or 5xx is a {@link RetriableException}, which Connect retries.
 */
public class AvroConverter implements Converter {

  private record Writer(int id, Schema schema) {}

  private record Latest(Writer writer, long fetchedAtNanos) {}

  private SchemaRegistryClient registry;
  private boolean ownsRegistry;
  private boolean isKey;
  private AvroConverterConfig config;
  private KafkaAvroSerDeConfig serdeConfig;
  private SubjectNameStrategy subjectNameStrategy;
  private AvroData avroData;
  private final ConcurrentMap<String, Writer> writers = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Latest> latestBySubject = new ConcurrentHashMap<>();
  private final ConcurrentMap<SubjectSchema, Optional<Integer>> versions =
      new ConcurrentHashMap<>();
  // Readers and writers per schema: built once, not per record (Schema caches its hash).
  private final ConcurrentMap<Schema, GenericDatumReader<Object>> readers =
      new ConcurrentHashMap<>();
  private final ConcurrentMap<Schema, GenericDatumWriter<Object>> datumWriters =
      new ConcurrentHashMap<>();

  private record SubjectSchema(String subject, Schema schema) {}

  /** For Connect to construct and then {@link #configure}. */
  public AvroConverter() {}

  /** Uses {@code registry} instead of creating a client from the configuration (tests, tools). */
  public AvroConverter(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  @Override
  public ConfigDef config() {
    return AvroConverterConfig.configDef();
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.isKey = isKey;
    this.config = new AvroConverterConfig(configs);
    this.serdeConfig = new KafkaAvroSerDeConfig(configs);
    this.subjectNameStrategy = serdeConfig.subjectNameStrategy(isKey);
    this.avroData = config.avroData();
    if (registry == null) {
      registry = SchemaRegistryClientFactory.create(configs);
      ownsRegistry = true;
    }
    writers.clear();
    versions.clear();
    latestBySubject.clear();
  }

  @Override
  public byte[] fromConnectData(
      String topic, org.apache.kafka.connect.data.Schema schema, Object value) {
    requireConfigured();
    if (value == null) {
      // A tombstone, whatever the schema (Debezium sends them with none).
      return null;
    }
    Schema avroSchema;
    Object avroValue;
    try {
      avroSchema = avroData.fromConnectSchema(schema);
      avroValue = avroData.fromConnectData(schema, avroSchema, value);
    } catch (DataException e) {
      throw new DataException(
          "Cannot convert Connect data to Avro for " + where(topic, null) + ": " + e.getMessage(),
          e);
    }
    if (avroValue == null) {
      return null;
    }
    String subject = subjectNameStrategy.subjectName(topic, isKey, avroSchema);
    if (serdeConfig.getBoolean(KafkaAvroSerDeConfig.USE_LATEST_VERSION_CONFIG)) {
      Writer latest = latest(topic, subject);
      if (!latest.schema().equals(avroSchema)) {
        avroValue = resolve(topic, subject, avroSchema, latest.schema(), avroValue);
      }
      return encode(topic, subject, latest.id(), latest.schema(), avroValue);
    }
    return encode(topic, subject, idOf(topic, subject, avroSchema), avroSchema, avroValue);
  }

  @Override
  public byte[] fromConnectData(
      String topic, Headers headers, org.apache.kafka.connect.data.Schema schema, Object value) {
    return fromConnectData(topic, schema, value);
  }

  @Override
  public SchemaAndValue toConnectData(String topic, byte[] value) {
    return toConnectData(topic, null, value);
  }

  @Override
  public SchemaAndValue toConnectData(String topic, Headers headers, byte[] value) {
    requireConfigured();
    if (value == null) {
      return SchemaAndValue.NULL;
    }
    String subject =
        subjectNameStrategy.usesSchema()
            ? null
            : subjectNameStrategy.subjectName(topic, isKey, null);
    Header header = headers == null ? null : headers.lastHeader(WireFormat.schemaIdHeader(isKey));
    WireFormat.SchemaReference schema;
    int offset;
    if (header != null && header.value() != null) {
      schema = WireFormat.fromHeader(header.value());
      if (schema == null) {
        throw new DataException(
            "Unknown schema id header "
                + header.key()
                + " for "
                + where(topic, subject)
                + ": expected byte 1 and a 16-byte GUID, or byte 0 and a 4-byte id");
      }
      offset = 0;
    } else {
      if (value.length < WireFormat.PREFIX_SIZE || value[0] != WireFormat.MAGIC_BYTE) {
        throw new DataException(
            "Not Confluent Avro data for "
                + where(topic, subject)
                + ": expected magic byte 0x00 and a 4-byte schema id, got "
                + value.length
                + " byte(s)"
                + (value.length > 0
                    ? String.format(" starting with 0x%02x", value[0] & 0xff)
                    : ""));
      }
      schema = WireFormat.fromPayload(value);
      offset = WireFormat.PREFIX_SIZE;
    }
    String ref = schema.describe();
    Schema writer =
        fetch(
            topic,
            subject,
            ref,
            () ->
                schema.id() != null
                    ? registry.getSchemaBySubjectAndId(subject, schema.id())
                    : registry.getSchemaByGuid(schema.guid()));
    Object avroValue = decode(topic, subject, ref, writer, value, offset);
    Integer version = subject == null ? null : versionOf(topic, subject, writer);
    try {
      return avroData.toConnectData(writer, avroValue, version);
    } catch (DataException e) {
      throw new DataException(
          "Cannot convert Avro data of schema "
              + ref
              + " to Connect for "
              + where(topic, subject)
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private interface RegistryCall<T> {
    T call() throws IOException, RestClientException;
  }

  private Schema fetch(String topic, String subject, String ref, RegistryCall<Schema> call) {
    try {
      return call.call();
    } catch (SchemaNotFoundException e) {
      throw new DataException(
          "Unknown schema " + ref + " for " + where(topic, subject) + ": " + e.getMessage(), e);
    } catch (IOException | RestClientException e) {
      throw registryFailure("Cannot fetch schema " + ref + " for " + where(topic, subject), e);
    }
  }

  private Integer versionOf(String topic, String subject, Schema writer) {
    SubjectSchema key = new SubjectSchema(subject, writer);
    Optional<Integer> cached = versions.get(key);
    if (cached != null) {
      return cached.orElse(null);
    }
    Optional<Integer> version;
    try {
      version = Optional.of(registry.getVersion(subject, writer));
    } catch (SubjectNotFoundException | SchemaNotFoundException e) {
      // Written under another subject (or the subject was deleted): the data is still readable.
      version = Optional.empty();
    } catch (IOException | RestClientException e) {
      if (isRetriable(e)) {
        throw registryFailure(
            "Cannot look up the version of the writer schema for " + where(topic, subject), e);
      }
      version = Optional.empty();
    }
    versions.put(key, version);
    return version.orElse(null);
  }

  private Object decode(
      String topic, String subject, String ref, Schema writer, byte[] data, int offset) {
    if (writer.getType() == Schema.Type.BYTES) {
      // Confluent's format: top-level bytes are written raw, without Avro's length.
      return ByteBuffer.wrap(Arrays.copyOfRange(data, offset, data.length));
    }
    // Bounded: a forged length must not allocate more than the payload holds (see BoundedDecoder).
    BoundedDecoder decoder = BoundedDecoder.over(data, offset, data.length - offset);
    try {
      Object value =
          readers
              .computeIfAbsent(writer, w -> new GenericDatumReader<>(w, w, GenericData.get()))
              .read(null, decoder);
      if (!decoder.isEnd()) {
        throw new DataException(
            "Trailing bytes after the Avro record of schema "
                + ref
                + " for "
                + where(topic, subject));
      }
      return value;
    } catch (EOFException e) {
      throw new DataException(
          "Truncated Avro payload of schema " + ref + " for " + where(topic, subject), e);
    } catch (IOException | RuntimeException e) {
      if (e instanceof DataException d) {
        throw d;
      }
      throw new DataException(
          "Malformed Avro payload of schema " + ref + " for " + where(topic, subject) + ": " + e,
          e);
    }
  }

  private int idOf(String topic, String subject, Schema schema) {
    String key = subject + "\u0000" + System.identityHashCode(schema);
    Writer cached = writers.get(key);
    if (cached != null && cached.schema() == schema) {
      return cached.id();
    }
    boolean register = serdeConfig.getBoolean(KafkaAvroSerDeConfig.AUTO_REGISTER_SCHEMAS_CONFIG);
    int id;
    try {
      id = register ? registry.register(subject, schema) : registry.getId(subject, schema);
    } catch (IncompatibleSchemaException e) {
      throw new DataException(
          "The Avro schema "
              + schema.getFullName()
              + " is incompatible with the registered versions of "
              + where(topic, subject)
              + ": "
              + e.getMessage(),
          e);
    } catch (SchemaNotFoundException | SubjectNotFoundException e) {
      throw new DataException(
          "The Avro schema "
              + schema.getFullName()
              + " is not registered for "
              + where(topic, subject)
              + " and auto.register.schemas=false: "
              + e.getMessage(),
          e);
    } catch (IOException | RestClientException e) {
      throw registryFailure(
          (register ? "Cannot register" : "Cannot look up")
              + " the Avro schema "
              + schema.getFullName()
              + " for "
              + where(topic, subject),
          e);
    }
    if (writers.size() >= 10_000) {
      // A bound for connectors that mint schemas; real ones have a handful.
      writers.clear();
    }
    writers.put(key, new Writer(id, schema));
    return id;
  }

  private Writer latest(String topic, String subject) {
    long ttlSeconds = serdeConfig.getLong(KafkaAvroSerDeConfig.LATEST_CACHE_TTL_SEC_CONFIG);
    Latest cached = latestBySubject.get(subject);
    if (cached != null
        && (ttlSeconds < 0 || System.nanoTime() - cached.fetchedAtNanos() < ttlSeconds * 1e9)) {
      return cached.writer();
    }
    try {
      SchemaMetadata metadata = registry.getLatestSchemaMetadata(subject);
      Writer latest = new Writer(metadata.id(), metadata.avroSchema());
      latestBySubject.put(subject, new Latest(latest, System.nanoTime()));
      return latest;
    } catch (SubjectNotFoundException e) {
      throw new DataException(
          "No schema registered for " + where(topic, subject) + " (use.latest.version=true)", e);
    } catch (IOException | RestClientException e) {
      throw registryFailure("Cannot fetch the latest schema of " + where(topic, subject), e);
    }
  }

  private Object resolve(String topic, String subject, Schema own, Schema target, Object value) {
    if (serdeConfig.getBoolean(KafkaAvroSerDeConfig.LATEST_COMPATIBILITY_STRICT_CONFIG)
        && SchemaCompatibility.checkReaderWriterCompatibility(target, own).getType()
            != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      throw new DataException(
          "The latest schema of "
              + where(topic, subject)
              + " cannot read data of the converted Connect schema "
              + own.getFullName()
              + " (latest.compatibility.strict=true)");
    }
    // Avro resolution does the conversion: write with our schema, read as the latest.
    byte[] ownBytes = encode(topic, subject, 0, own, value);
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(
                ownBytes, WireFormat.PREFIX_SIZE, ownBytes.length - WireFormat.PREFIX_SIZE, null);
    try {
      return new GenericDatumReader<>(own, target, GenericData.get()).read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw new DataException(
          "Cannot convert data of "
              + own.getFullName()
              + " to the latest schema of "
              + where(topic, subject)
              + ": "
              + e,
          e);
    }
  }

  private byte[] encode(String topic, String subject, int id, Schema schema, Object value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(128);
    out.write(WireFormat.MAGIC_BYTE);
    out.writeBytes(ByteBuffer.allocate(WireFormat.ID_SIZE).putInt(id).array());
    if (schema.getType() == Schema.Type.BYTES) {
      ByteBuffer buffer = ((ByteBuffer) value).duplicate();
      byte[] raw = new byte[buffer.remaining()];
      buffer.get(raw);
      out.writeBytes(raw);
      return out.toByteArray();
    }
    try {
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      datumWriters
          .computeIfAbsent(schema, w -> new GenericDatumWriter<>(w, GenericData.get()))
          .write(value, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new DataException(
          "Cannot write Avro data of schema id " + id + " for " + where(topic, subject) + ": " + e,
          e);
    }
    return out.toByteArray();
  }

  private static boolean isRetriable(Exception e) {
    return e instanceof IOException
        || e instanceof UncheckedIOException
        || (e instanceof RestClientException rce && rce.isRetriable());
  }

  /** Registry outages are retriable (Connect retries the record); anything else is bad data. */
  private static RuntimeException registryFailure(String message, Exception e) {
    String full = message + ": " + e.getMessage();
    return isRetriable(e) ? new RetriableException(full, e) : new DataException(full, e);
  }

  private String where(String topic, String subject) {
    return "topic '"
        + topic
        + "' ("
        + (isKey ? "key" : "value")
        + (subject == null ? "" : ", subject '" + subject + "'")
        + ")";
  }

  private void requireConfigured() {
    if (config == null) {
      throw new IllegalStateException("AvroConverter used before configure(Map, boolean)");
    }
  }

  @Override
  public void close() {
    if (ownsRegistry && registry != null) {
      try {
        registry.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
