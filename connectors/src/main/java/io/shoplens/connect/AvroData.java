package io.shoplens.connect;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericFixed;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * Maps Avro schemas and data to Kafka Connect's and back, with the conventions of Confluent's
 * {@code io.confluent.connect.avro.AvroData}, so that connectors, transforms and sinks see the same
 * Connect data they would see behind Confluent's converter.
 *
 * <h2>Avro to Connect</h2>
 *
 * <ul>
 *   <li>{@code ["null", T]} (either order) is {@code T} made optional; any other union is a struct
 *       named {@value #AVRO_TYPE_UNION} with one optional field per branch, named by the branch
 *       type ({@code string}, {@code int}, ... or the simple name of a record, enum or fixed; the
 *       full name with {@code enhanced.avro.schema.support}); exactly one field is set. A {@code
 *       null} branch makes the union struct optional.
 *   <li>Records are structs named by the record's full name; enums are strings named by the enum's
 *       full name, with the parameters {@value #AVRO_TYPE_ENUM} = full name and {@code
 *       io.confluent.connect.avro.Enum.<symbol>} = symbol, in symbol order.
 *   <li>Logical types: {@code decimal} (bytes or fixed) is Connect {@link Decimal} (precision kept
 *       in the parameter {@value #CONNECT_AVRO_DECIMAL_PRECISION_PROP}); {@code date}, {@code
 *       time-millis}, {@code timestamp-millis} are {@link Date}, {@link Time}, {@link Timestamp}.
 *       Other logical types are read as their underlying type.
 *   <li>Maps are Connect maps with string keys; an array of records {@code
 *       io.confluent.connect.avro.MapEntry {key, value}} is a Connect map with keys of any type.
 *   <li>{@code bytes} and {@code fixed} are Connect bytes ({@code byte[]}); {@code int} with {@code
 *       connect.type} {@code int8}/{@code int16} is int8/int16.
 *   <li>Field defaults become Connect defaults; {@code connect.name}, {@code connect.version},
 *       {@code connect.doc}, {@code connect.parameters} and {@code connect.default} properties
 *       restore what Connect → Avro wrote.
 * </ul>
 *
 * <h2>Connect to Avro</h2>
 *
 * The inverse. Optional schemas become {@code ["null", T]} with a null default, or {@code [T,
 * "null"]} when they have a non-null default. Structs without a name become records named {@value
 * #DEFAULT_SCHEMA_FULL_NAME}; a name that is not a valid Avro name has its invalid characters
 * replaced by {@code _} (the original stays in {@code connect.name}). Maps with keys other than
 * required strings become arrays of {@code MapEntry} records. With {@code connect.meta.data} (the
 * default), Connect's name, version, doc, parameters and default are kept in {@code connect.*}
 * properties, so that a round trip through Avro restores the Connect schema exactly.
 *
 * <p>Recursive Avro schemas are refused with a {@link DataException} (Connect schemas cannot refer
 * to themselves). Conversions are cached ({@code schemas.cache.config} entries each way); the class
 * is thread-safe.
 */
public final class AvroData {

  /** Namespace of Confluent's internal names (union struct, map entries, default record name). */
  public static final String NAMESPACE = "io.confluent.connect.avro";

  public static final String DEFAULT_SCHEMA_NAME = "ConnectDefault";
  public static final String DEFAULT_SCHEMA_FULL_NAME = NAMESPACE + "." + DEFAULT_SCHEMA_NAME;
  public static final String MAP_ENTRY_TYPE_NAME = "MapEntry";
  public static final String KEY_FIELD = "key";
  public static final String VALUE_FIELD = "value";

  public static final String CONNECT_NAME_PROP = "connect.name";
  public static final String CONNECT_DOC_PROP = "connect.doc";
  public static final String CONNECT_RECORD_DOC_PROP = "connect.record.doc";
  public static final String CONNECT_ENUM_DOC_PROP = "connect.enum.doc";
  public static final String CONNECT_VERSION_PROP = "connect.version";
  public static final String CONNECT_DEFAULT_VALUE_PROP = "connect.default";
  public static final String CONNECT_PARAMETERS_PROP = "connect.parameters";
  public static final String CONNECT_INTERNAL_TYPE_NAME = "connect.internal.type";
  public static final String CONNECT_TYPE_PROP = "connect.type";
  public static final String CONNECT_TYPE_INT8 = "int8";
  public static final String CONNECT_TYPE_INT16 = "int16";

  /** Name of the Connect struct that stands for a general Avro union. */
  public static final String AVRO_TYPE_UNION = NAMESPACE + ".Union";

  /** Parameter naming the Avro enum a Connect string came from; symbols follow as suffixes. */
  public static final String AVRO_TYPE_ENUM = NAMESPACE + ".Enum";

  public static final String AVRO_FIELD_DOC_PREFIX_PROP = NAMESPACE + ".field.doc.";
  public static final String AVRO_ENUM_DEFAULT_PROP = NAMESPACE + ".enum.default";

  public static final String CONNECT_AVRO_DECIMAL_PRECISION_PROP = "connect.decimal.precision";
  public static final int CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT = 64;
  public static final String CONNECT_AVRO_FIXED_SIZE_PROP = "connect.fixed.size";

  private static final String AVRO_LOGICAL_DECIMAL = "decimal";
  private static final String AVRO_LOGICAL_DATE = "date";
  private static final String AVRO_LOGICAL_TIME_MILLIS = "time-millis";
  private static final String AVRO_LOGICAL_TIMESTAMP_MILLIS = "timestamp-millis";

  private static final org.apache.avro.Schema NULL_AVRO_SCHEMA =
      org.apache.avro.Schema.create(org.apache.avro.Schema.Type.NULL);

  private record AvroKey(org.apache.avro.Schema schema, Integer version) {}

  private final boolean connectMetaData;
  private final boolean enhancedSchemaSupport;
  private final Map<AvroKey, Schema> toConnectCache;
  private final Map<Schema, org.apache.avro.Schema> fromConnectCache;

  /** Confluent's defaults: metadata kept, simple union branch names, 1000 cached schemas. */
  public AvroData(int cacheSize) {
    this(cacheSize, true, false);
  }

  /**
   * @param cacheSize schemas cached each way ({@code schemas.cache.config})
   * @param connectMetaData write {@code connect.*} properties to Avro schemas, and read field and
   *     record docs into Connect parameters ({@code connect.meta.data})
   * @param enhancedSchemaSupport name union branches by full name ({@code
   *     enhanced.avro.schema.support})
   */
  public AvroData(int cacheSize, boolean connectMetaData, boolean enhancedSchemaSupport) {
    if (cacheSize < 1) {
      throw new IllegalArgumentException("cacheSize must be at least 1, was " + cacheSize);
    }
    this.connectMetaData = connectMetaData;
    this.enhancedSchemaSupport = enhancedSchemaSupport;
    this.toConnectCache = lru(cacheSize);
    this.fromConnectCache = lru(cacheSize);
  }

  private static <K, V> Map<K, V> lru(int size) {
    return Collections.synchronizedMap(
        new LinkedHashMap<>(16, 0.75f, true) {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > size;
          }
        });
  }

  // ---------------------------------------------------------------- Avro -> Connect: schemas

  /** The Connect schema for {@code avroSchema}. */
  public Schema toConnectSchema(org.apache.avro.Schema avroSchema) {
    return toConnectSchema(avroSchema, null);
  }

  /**
   * The Connect schema for {@code avroSchema}, with {@code version} as its version when the schema
   * carries no {@code connect.version} (Confluent's converter passes the registry version).
   */
  public Schema toConnectSchema(org.apache.avro.Schema avroSchema, Integer version) {
    AvroKey key = new AvroKey(avroSchema, version);
    Schema cached = toConnectCache.get(key);
    if (cached != null) {
      return cached;
    }
    SchemaBuilder builder =
        toConnectBuilder(
            avroSchema, false, null, null, Collections.newSetFromMap(new IdentityHashMap<>()));
    if (version != null && builder.version() == null) {
      builder.version(version);
    }
    Schema schema = builder.build();
    toConnectCache.put(key, schema);
    return schema;
  }

  private SchemaBuilder toConnectBuilder(
      org.apache.avro.Schema schema,
      boolean forceOptional,
      Object fieldDefault,
      String fieldDoc,
      Set<org.apache.avro.Schema> inProgress) {
    SchemaBuilder builder;
    LogicalType logical = schema.getLogicalType();
    String logicalName = logical == null ? schema.getProp("logicalType") : logical.getName();
    switch (schema.getType()) {
      case BOOLEAN -> builder = SchemaBuilder.bool();
      case FLOAT -> builder = SchemaBuilder.float32();
      case DOUBLE -> builder = SchemaBuilder.float64();
      case STRING -> builder = SchemaBuilder.string();
      case INT -> {
        String connectType = schema.getProp(CONNECT_TYPE_PROP);
        if (AVRO_LOGICAL_DATE.equals(logicalName)) {
          builder = Date.builder();
        } else if (AVRO_LOGICAL_TIME_MILLIS.equals(logicalName)) {
          builder = Time.builder();
        } else if (CONNECT_TYPE_INT8.equals(connectType)) {
          builder = SchemaBuilder.int8();
        } else if (CONNECT_TYPE_INT16.equals(connectType)) {
          builder = SchemaBuilder.int16();
        } else {
          builder = SchemaBuilder.int32();
        }
      }
      case LONG ->
          builder =
              AVRO_LOGICAL_TIMESTAMP_MILLIS.equals(logicalName)
                  ? Timestamp.builder()
                  : SchemaBuilder.int64();
      case BYTES, FIXED -> {
        if (logical instanceof LogicalTypes.Decimal decimal) {
          builder =
              Decimal.builder(decimal.getScale())
                  .parameter(
                      CONNECT_AVRO_DECIMAL_PRECISION_PROP, String.valueOf(decimal.getPrecision()));
        } else {
          builder = SchemaBuilder.bytes();
        }
        if (schema.getType() == org.apache.avro.Schema.Type.FIXED) {
          builder.parameter(CONNECT_AVRO_FIXED_SIZE_PROP, String.valueOf(schema.getFixedSize()));
        }
      }
      case ARRAY -> {
        org.apache.avro.Schema items = schema.getElementType();
        if (isMapEntry(items)) {
          builder =
              SchemaBuilder.map(
                  toConnectBuilder(
                          items.getField(KEY_FIELD).schema(), false, null, null, inProgress)
                      .build(),
                  toConnectBuilder(
                          items.getField(VALUE_FIELD).schema(), false, null, null, inProgress)
                      .build());
        } else {
          builder =
              SchemaBuilder.array(toConnectBuilder(items, false, null, null, inProgress).build());
        }
      }
      case MAP ->
          builder =
              SchemaBuilder.map(
                  Schema.STRING_SCHEMA,
                  toConnectBuilder(schema.getValueType(), false, null, null, inProgress).build());
      case ENUM -> {
        builder = SchemaBuilder.string();
        if (connectMetaData && schema.getDoc() != null) {
          builder.parameter(CONNECT_ENUM_DOC_PROP, schema.getDoc());
        }
        builder.parameter(AVRO_TYPE_ENUM, schema.getFullName());
        for (String symbol : schema.getEnumSymbols()) {
          builder.parameter(AVRO_TYPE_ENUM + "." + symbol, symbol);
        }
        if (schema.getEnumDefault() != null) {
          builder.parameter(AVRO_ENUM_DEFAULT_PROP, schema.getEnumDefault());
        }
      }
      case RECORD -> {
        if (!inProgress.add(schema)) {
          throw new DataException(
              "Cannot convert the recursive Avro record "
                  + schema.getFullName()
                  + " to a Connect schema: Connect schemas cannot refer to themselves");
        }
        builder = SchemaBuilder.struct();
        if (connectMetaData && schema.getDoc() != null) {
          builder.parameter(CONNECT_RECORD_DOC_PROP, schema.getDoc());
        }
        for (org.apache.avro.Schema.Field field : schema.getFields()) {
          if (connectMetaData && field.doc() != null) {
            builder.parameter(AVRO_FIELD_DOC_PREFIX_PROP + field.name(), field.doc());
          }
          Object defaultValue = field.hasDefaultValue() ? field.defaultVal() : null;
          builder.field(
              field.name(),
              toConnectBuilder(field.schema(), false, defaultValue, field.doc(), inProgress)
                  .build());
        }
        inProgress.remove(schema);
      }
      case UNION -> {
        List<org.apache.avro.Schema> types = schema.getTypes();
        if (types.size() == 2 && types.contains(NULL_AVRO_SCHEMA)) {
          org.apache.avro.Schema member = types.get(types.get(0).equals(NULL_AVRO_SCHEMA) ? 1 : 0);
          // A null default belongs to the null branch: the Connect schema gets no default then.
          Object memberDefault = isNullDefault(fieldDefault) ? null : fieldDefault;
          return toConnectBuilder(member, true, memberDefault, fieldDoc, inProgress);
        }
        builder = SchemaBuilder.struct().name(AVRO_TYPE_UNION);
        Set<String> names = new LinkedHashSet<>();
        for (org.apache.avro.Schema member : types) {
          if (member.getType() == org.apache.avro.Schema.Type.NULL) {
            builder.optional();
            continue;
          }
          String name = unionMemberFieldName(member);
          if (!names.add(name)) {
            throw new DataException(
                "Cannot convert the Avro union "
                    + schema
                    + " to Connect: two branches map to the union field name '"
                    + name
                    + "'");
          }
          builder.field(name, toConnectBuilder(member, true, null, null, inProgress).build());
        }
        if (isNullDefault(fieldDefault)) {
          fieldDefault = null;
        }
      }
      case NULL ->
          throw new DataException(
              "Cannot convert the Avro type null on its own to Connect: Connect has no null type");
      default -> throw new DataException("Unknown Avro type " + schema.getType());
    }

    String doc = fieldDoc != null ? fieldDoc : schema.getDoc();
    if (doc == null) {
      doc = schema.getProp(CONNECT_DOC_PROP);
    }
    if (doc != null) {
      builder.doc(doc);
    }
    Object version = schema.getObjectProp(CONNECT_VERSION_PROP);
    if (version != null) {
      int v = version instanceof Number n ? n.intValue() : Integer.parseInt(version.toString());
      if (builder.version() == null) {
        builder.version(v);
      }
    }
    if (schema.getObjectProp(CONNECT_PARAMETERS_PROP) instanceof Map<?, ?> params) {
      for (Map.Entry<?, ?> e : params.entrySet()) {
        builder.parameter(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
      }
    }
    String name = schema.getProp(CONNECT_NAME_PROP);
    if (name == null
        && (schema.getType() == org.apache.avro.Schema.Type.RECORD
            || schema.getType() == org.apache.avro.Schema.Type.ENUM
            || (schema.getType() == org.apache.avro.Schema.Type.FIXED && builder.name() == null))) {
      name = schema.getFullName();
    }
    if (name != null && !name.equals(DEFAULT_SCHEMA_FULL_NAME)) {
      if (builder.name() == null) {
        builder.name(name);
      } else if (!builder.name().equals(name)
          && schema.getType() != org.apache.avro.Schema.Type.FIXED) {
        throw new DataException(
            "The Avro schema "
                + schema
                + " names Connect type "
                + name
                + " but its logical type maps to "
                + builder.name());
      }
    }
    if (fieldDefault == null && schema.getObjectProp(CONNECT_DEFAULT_VALUE_PROP) != null) {
      fieldDefault = schema.getObjectProp(CONNECT_DEFAULT_VALUE_PROP);
    }
    if (fieldDefault != null && !isNullDefault(fieldDefault)) {
      builder.defaultValue(defaultFromAvro(builder, schema, fieldDefault));
    }
    if (forceOptional) {
      builder.optional();
    }
    return builder;
  }

  private String unionMemberFieldName(org.apache.avro.Schema member) {
    return switch (member.getType()) {
      case RECORD, ENUM, FIXED -> enhancedSchemaSupport ? member.getFullName() : member.getName();
      default -> member.getType().getName();
    };
  }

  private static boolean isMapEntry(org.apache.avro.Schema items) {
    return items.getType() == org.apache.avro.Schema.Type.RECORD
        && (MAP_ENTRY_TYPE_NAME.equals(items.getProp(CONNECT_INTERNAL_TYPE_NAME))
            || (NAMESPACE.equals(items.getNamespace())
                && MAP_ENTRY_TYPE_NAME.equals(items.getName())))
        && items.getFields().size() == 2
        && items.getField(KEY_FIELD) != null
        && items.getField(VALUE_FIELD) != null;
  }

  private static boolean isNullDefault(Object value) {
    return value == JsonProperties.NULL_VALUE;
  }

  /** A field's Avro default (as {@code Field.defaultVal()} gives it) as a Connect value. */
  private Object defaultFromAvro(Schema connect, org.apache.avro.Schema avro, Object value) {
    if (value == null || isNullDefault(value)) {
      return null;
    }
    if (avro.getType() == org.apache.avro.Schema.Type.UNION) {
      // Avro: a union's default is a value of its first branch.
      org.apache.avro.Schema first = avro.getTypes().get(0);
      if (connect.type() == Schema.Type.STRUCT && AVRO_TYPE_UNION.equals(connect.name())) {
        Struct union = new Struct(connect);
        String fieldName = unionMemberFieldName(first);
        union.put(fieldName, defaultFromAvro(connect.field(fieldName).schema(), first, value));
        return union;
      }
      return defaultFromAvro(
          connect,
          first.getType() == org.apache.avro.Schema.Type.NULL ? avro.getTypes().get(1) : first,
          value);
    }
    try {
      return switch (connect.type()) {
        case INT8 -> ((Number) value).byteValue();
        case INT16 -> ((Number) value).shortValue();
        case INT32 ->
            Date.LOGICAL_NAME.equals(connect.name())
                ? Date.toLogical(connect, ((Number) value).intValue())
                : Time.LOGICAL_NAME.equals(connect.name())
                    ? Time.toLogical(connect, ((Number) value).intValue())
                    : ((Number) value).intValue();
        case INT64 ->
            Timestamp.LOGICAL_NAME.equals(connect.name())
                ? Timestamp.toLogical(connect, ((Number) value).longValue())
                : ((Number) value).longValue();
        case FLOAT32 -> ((Number) value).floatValue();
        case FLOAT64 -> ((Number) value).doubleValue();
        case BOOLEAN -> (Boolean) value;
        case STRING -> value.toString();
        case BYTES -> {
          byte[] bytes = bytesOf(value);
          yield Decimal.LOGICAL_NAME.equals(connect.name())
              ? Decimal.toLogical(connect, bytes)
              : bytes;
        }
        case ARRAY -> {
          List<Object> out = new ArrayList<>();
          org.apache.avro.Schema items = avro.getElementType();
          if (connect.type() == Schema.Type.MAP) {
            throw new IllegalStateException("unreachable");
          }
          for (Object item : (Collection<?>) value) {
            out.add(defaultFromAvro(connect.valueSchema(), items, item));
          }
          yield out;
        }
        case MAP -> {
          Map<Object, Object> out = new LinkedHashMap<>();
          if (avro.getType() == org.apache.avro.Schema.Type.ARRAY) {
            org.apache.avro.Schema entry = avro.getElementType();
            for (Object item : (Collection<?>) value) {
              Map<?, ?> kv = (Map<?, ?>) item;
              out.put(
                  defaultFromAvro(
                      connect.keySchema(), entry.getField(KEY_FIELD).schema(), kv.get(KEY_FIELD)),
                  defaultFromAvro(
                      connect.valueSchema(),
                      entry.getField(VALUE_FIELD).schema(),
                      kv.get(VALUE_FIELD)));
            }
          } else {
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
              out.put(
                  e.getKey().toString(),
                  defaultFromAvro(connect.valueSchema(), avro.getValueType(), e.getValue()));
            }
          }
          yield out;
        }
        case STRUCT -> {
          Struct struct = new Struct(connect);
          Map<?, ?> fields = (Map<?, ?>) value;
          for (org.apache.avro.Schema.Field f : avro.getFields()) {
            Object fieldValue = fields.containsKey(f.name()) ? fields.get(f.name()) : null;
            if (fieldValue != null) {
              struct.put(
                  f.name(),
                  defaultFromAvro(connect.field(f.name()).schema(), f.schema(), fieldValue));
            }
          }
          yield struct;
        }
      };
    } catch (ClassCastException | DataException e) {
      throw new DataException(
          "Cannot convert the Avro default " + value + " of " + avro + " to Connect: " + e, e);
    }
  }

  private static byte[] bytesOf(Object value) {
    if (value instanceof byte[] b) {
      return b;
    }
    if (value instanceof ByteBuffer buffer) {
      ByteBuffer copy = buffer.duplicate();
      byte[] out = new byte[copy.remaining()];
      copy.get(out);
      return out;
    }
    if (value instanceof GenericFixed fixed) {
      return fixed.bytes();
    }
    if (value instanceof CharSequence s) {
      // Avro writes byte defaults as ISO-8859-1 strings.
      return s.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }
    throw new DataException("Expected bytes, got " + value.getClass().getName());
  }

  // ---------------------------------------------------------------- Avro -> Connect: data

  /** Converts Avro data written with {@code avroSchema} to Connect data of the mapped schema. */
  public org.apache.kafka.connect.data.SchemaAndValue toConnectData(
      org.apache.avro.Schema avroSchema, Object value) {
    return toConnectData(avroSchema, value, null);
  }

  /** As {@link #toConnectData(org.apache.avro.Schema, Object)}, with a version for the schema. */
  public org.apache.kafka.connect.data.SchemaAndValue toConnectData(
      org.apache.avro.Schema avroSchema, Object value, Integer version) {
    Schema schema = toConnectSchema(avroSchema, version);
    return new org.apache.kafka.connect.data.SchemaAndValue(
        schema, toConnectValue(schema, avroSchema, value));
  }

  private Object toConnectValue(Schema schema, org.apache.avro.Schema avro, Object value) {
    if (value == null) {
      if (!schema.isOptional() && schema.defaultValue() == null) {
        throw new DataException(
            "Found null for the required Connect schema "
                + describe(schema)
                + " (Avro "
                + avro
                + ")");
      }
      return null;
    }
    try {
      switch (avro.getType()) {
        case UNION -> {
          int branch = GenericData.get().resolveUnion(avro, value);
          org.apache.avro.Schema member = avro.getTypes().get(branch);
          if (member.getType() == org.apache.avro.Schema.Type.NULL) {
            return null;
          }
          if (schema.type() == Schema.Type.STRUCT && AVRO_TYPE_UNION.equals(schema.name())) {
            Struct union = new Struct(schema);
            String field = unionMemberFieldName(member);
            union.put(field, toConnectValue(schema.field(field).schema(), member, value));
            return union;
          }
          return toConnectValue(schema, member, value);
        }
        case BOOLEAN, FLOAT, DOUBLE -> {
          return value;
        }
        case INT -> {
          int i =
              value instanceof LocalDate d
                  ? (int) d.toEpochDay()
                  : value instanceof LocalTime t
                      ? (int) TimeUnit.NANOSECONDS.toMillis(t.toNanoOfDay())
                      : ((Number) value).intValue();
          return switch (schema.type()) {
            case INT8 -> (byte) i;
            case INT16 -> (short) i;
            default ->
                Date.LOGICAL_NAME.equals(schema.name())
                    ? Date.toLogical(schema, i)
                    : Time.LOGICAL_NAME.equals(schema.name()) ? Time.toLogical(schema, i) : i;
          };
        }
        case LONG -> {
          long l = value instanceof Instant instant ? instant.toEpochMilli() : (Long) value;
          return Timestamp.LOGICAL_NAME.equals(schema.name()) ? Timestamp.toLogical(schema, l) : l;
        }
        case STRING, ENUM -> {
          return value.toString();
        }
        case BYTES, FIXED -> {
          if (value instanceof BigDecimal decimal) {
            return decimal;
          }
          byte[] bytes = bytesOf(value);
          return Decimal.LOGICAL_NAME.equals(schema.name())
              ? Decimal.toLogical(schema, bytes)
              : bytes;
        }
        case ARRAY -> {
          Collection<?> items = (Collection<?>) value;
          org.apache.avro.Schema itemSchema = avro.getElementType();
          if (schema.type() == Schema.Type.MAP) {
            Map<Object, Object> map = new LinkedHashMap<>();
            for (Object item : items) {
              IndexedRecord entry = (IndexedRecord) item;
              org.apache.avro.Schema.Field k = itemSchema.getField(KEY_FIELD);
              org.apache.avro.Schema.Field v = itemSchema.getField(VALUE_FIELD);
              map.put(
                  toConnectValue(schema.keySchema(), k.schema(), entry.get(k.pos())),
                  toConnectValue(schema.valueSchema(), v.schema(), entry.get(v.pos())));
            }
            return map;
          }
          List<Object> list = new ArrayList<>(items.size());
          for (Object item : items) {
            list.add(toConnectValue(schema.valueSchema(), itemSchema, item));
          }
          return list;
        }
        case MAP -> {
          Map<Object, Object> map = new LinkedHashMap<>();
          for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
            map.put(
                e.getKey().toString(),
                toConnectValue(schema.valueSchema(), avro.getValueType(), e.getValue()));
          }
          return map;
        }
        case RECORD -> {
          IndexedRecord record = (IndexedRecord) value;
          Struct struct = new Struct(schema);
          for (org.apache.avro.Schema.Field f : avro.getFields()) {
            Field connectField = schema.field(f.name());
            Object fieldValue =
                toConnectValue(connectField.schema(), f.schema(), record.get(f.pos()));
            if (fieldValue != null) {
              struct.put(connectField, fieldValue);
            }
          }
          return struct;
        }
        default -> throw new DataException("Unsupported Avro type " + avro.getType());
      }
    } catch (ClassCastException e) {
      throw new DataException(
          "Invalid Avro data for "
              + describe(schema)
              + ": a "
              + value.getClass().getName()
              + " where Avro "
              + avro.getType()
              + " was expected",
          e);
    }
  }

  private static String describe(Schema schema) {
    return schema.name() != null
        ? schema.name() + " (" + schema.type() + ")"
        : schema.type().toString();
  }

  // ---------------------------------------------------------------- Connect -> Avro: schemas

  /** The Avro schema for {@code schema}. */
  public org.apache.avro.Schema fromConnectSchema(Schema schema) {
    if (schema == null) {
      throw new DataException(
          "The Avro converter needs a Connect schema: schemaless data cannot be written as Avro");
    }
    org.apache.avro.Schema cached = fromConnectCache.get(schema);
    if (cached != null) {
      return cached;
    }
    org.apache.avro.Schema avro = fromConnect(schema, new FromConnectContext(), true);
    fromConnectCache.put(schema, avro);
    return avro;
  }

  /** Named Avro types already defined in the schema being built, so that each is defined once. */
  private static final class FromConnectContext {
    final Map<Schema, org.apache.avro.Schema> named = new HashMap<>();
    final Set<String> usedNames = new LinkedHashSet<>();
  }

  private org.apache.avro.Schema fromConnect(
      Schema schema, FromConnectContext context, boolean withOptional) {
    org.apache.avro.Schema base = fromConnectBase(schema, context);
    if (!withOptional || !schema.isOptional()) {
      return base;
    }
    // Unions cannot nest: an optional union struct already has its null branch.
    if (base.getType() == org.apache.avro.Schema.Type.UNION) {
      return base;
    }
    return schema.defaultValue() != null
        ? org.apache.avro.Schema.createUnion(base, NULL_AVRO_SCHEMA)
        : org.apache.avro.Schema.createUnion(NULL_AVRO_SCHEMA, base);
  }

  private org.apache.avro.Schema fromConnectBase(Schema schema, FromConnectContext context) {
    org.apache.avro.Schema existing = context.named.get(schema);
    if (existing != null) {
      return existing;
    }
    Map<String, String> params =
        schema.parameters() == null ? Map.of() : new LinkedHashMap<>(schema.parameters());
    Set<String> consumed = new LinkedHashSet<>();
    org.apache.avro.Schema avro;
    boolean named = false;
    switch (schema.type()) {
      case INT8 -> {
        avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.INT);
        avro.addProp(CONNECT_TYPE_PROP, CONNECT_TYPE_INT8);
      }
      case INT16 -> {
        avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.INT);
        avro.addProp(CONNECT_TYPE_PROP, CONNECT_TYPE_INT16);
      }
      case INT32 -> {
        avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.INT);
        if (Date.LOGICAL_NAME.equals(schema.name())) {
          LogicalTypes.date().addToSchema(avro);
        } else if (Time.LOGICAL_NAME.equals(schema.name())) {
          LogicalTypes.timeMillis().addToSchema(avro);
        }
      }
      case INT64 -> {
        avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.LONG);
        if (Timestamp.LOGICAL_NAME.equals(schema.name())) {
          LogicalTypes.timestampMillis().addToSchema(avro);
        }
      }
      case FLOAT32 -> avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.FLOAT);
      case FLOAT64 -> avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.DOUBLE);
      case BOOLEAN -> avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.BOOLEAN);
      case STRING -> {
        String enumName = params.get(AVRO_TYPE_ENUM);
        if (enumName != null) {
          List<String> symbols = new ArrayList<>();
          String prefix = AVRO_TYPE_ENUM + ".";
          for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
              symbols.add(e.getValue());
              consumed.add(e.getKey());
            }
          }
          consumed.add(AVRO_TYPE_ENUM);
          consumed.add(CONNECT_ENUM_DOC_PROP);
          consumed.add(AVRO_ENUM_DEFAULT_PROP);
          String doc = params.get(CONNECT_ENUM_DOC_PROP);
          avro =
              org.apache.avro.Schema.createEnum(
                  uniqueName(enumName, context),
                  doc != null ? doc : schema.doc(),
                  null,
                  symbols,
                  params.get(AVRO_ENUM_DEFAULT_PROP));
          named = true;
        } else {
          avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.STRING);
        }
      }
      case BYTES -> {
        String fixedSize = params.get(CONNECT_AVRO_FIXED_SIZE_PROP);
        if (fixedSize != null) {
          String name =
              schema.name() != null && !Decimal.LOGICAL_NAME.equals(schema.name())
                  ? schema.name()
                  : DEFAULT_SCHEMA_FULL_NAME + "Fixed";
          avro =
              org.apache.avro.Schema.createFixed(
                  uniqueName(name, context), null, null, Integer.parseInt(fixedSize));
          named = true;
        } else {
          avro = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.BYTES);
        }
        if (Decimal.LOGICAL_NAME.equals(schema.name())) {
          int scale = Integer.parseInt(params.get(Decimal.SCALE_FIELD));
          String precision = params.get(CONNECT_AVRO_DECIMAL_PRECISION_PROP);
          LogicalTypes.decimal(
                  precision == null
                      ? CONNECT_AVRO_DECIMAL_PRECISION_DEFAULT
                      : Integer.parseInt(precision),
                  scale)
              .addToSchema(avro);
        }
      }
      case ARRAY ->
          avro =
              org.apache.avro.Schema.createArray(fromConnect(schema.valueSchema(), context, true));
      case MAP -> {
        if (schema.keySchema().type() == Schema.Type.STRING && !schema.keySchema().isOptional()) {
          avro = org.apache.avro.Schema.createMap(fromConnect(schema.valueSchema(), context, true));
        } else {
          // Each map gets its own entry record: one name may be defined only once per schema.
          org.apache.avro.Schema entry =
              org.apache.avro.Schema.createRecord(
                  uniqueName(NAMESPACE + "." + MAP_ENTRY_TYPE_NAME, context),
                  null,
                  null,
                  false,
                  List.of(
                      new org.apache.avro.Schema.Field(
                          KEY_FIELD, fromConnect(schema.keySchema(), context, true)),
                      new org.apache.avro.Schema.Field(
                          VALUE_FIELD, fromConnect(schema.valueSchema(), context, true))));
          entry.addProp(CONNECT_INTERNAL_TYPE_NAME, MAP_ENTRY_TYPE_NAME);
          avro = org.apache.avro.Schema.createArray(entry);
        }
      }
      case STRUCT -> {
        if (AVRO_TYPE_UNION.equals(schema.name())) {
          List<org.apache.avro.Schema> members = new ArrayList<>();
          if (schema.isOptional()) {
            members.add(NULL_AVRO_SCHEMA);
          }
          for (Field f : schema.fields()) {
            members.add(fromConnect(f.schema(), context, false));
          }
          avro = org.apache.avro.Schema.createUnion(members);
          context.named.put(schema, avro);
          return avro;
        }
        String name = schema.name() != null ? schema.name() : DEFAULT_SCHEMA_FULL_NAME;
        consumed.add(CONNECT_RECORD_DOC_PROP);
        String recordDoc = params.get(CONNECT_RECORD_DOC_PROP);
        avro =
            org.apache.avro.Schema.createRecord(
                uniqueName(name, context),
                recordDoc != null ? recordDoc : schema.doc(),
                null,
                false);
        // Registered before the fields, so that a struct reused inside itself is defined once.
        context.named.put(schema, avro);
        List<org.apache.avro.Schema.Field> fields = new ArrayList<>();
        for (Field f : schema.fields()) {
          String docKey = AVRO_FIELD_DOC_PREFIX_PROP + f.name();
          consumed.add(docKey);
          String fieldDoc = params.containsKey(docKey) ? params.get(docKey) : f.schema().doc();
          org.apache.avro.Schema fieldSchema = fromConnect(f.schema(), context, true);
          Object defaultValue = fieldDefault(f.schema(), fieldSchema);
          fields.add(
              defaultValue == null
                  ? new org.apache.avro.Schema.Field(f.name(), fieldSchema, fieldDoc)
                  : new org.apache.avro.Schema.Field(
                      f.name(), fieldSchema, fieldDoc, defaultValue));
        }
        avro.setFields(fields);
        named = true;
      }
      default -> throw new DataException("Unknown Connect type " + schema.type());
    }
    if (connectMetaData) {
      if (schema.doc() != null && !named) {
        avro.addProp(CONNECT_DOC_PROP, schema.doc());
      }
      if (schema.version() != null) {
        avro.addProp(CONNECT_VERSION_PROP, schema.version());
      }
      Map<String, String> left = new LinkedHashMap<>(params);
      left.keySet().removeAll(consumed);
      if (!left.isEmpty()) {
        avro.addProp(CONNECT_PARAMETERS_PROP, left);
      }
      if (schema.defaultValue() != null && !named) {
        avro.addProp(
            CONNECT_DEFAULT_VALUE_PROP, defaultToAvro(schema, avro, schema.defaultValue()));
      }
      if (schema.name() != null) {
        avro.addProp(CONNECT_NAME_PROP, schema.name());
      }
    }
    if (named) {
      context.named.put(schema, avro);
    }
    return avro;
  }

  /** A valid Avro full name for {@code name}, distinct from other named types of this schema. */
  private static String uniqueName(String name, FromConnectContext context) {
    StringBuilder clean = new StringBuilder(name.length());
    for (String part : name.split("\\.", -1)) {
      if (clean.length() > 0) {
        clean.append('.');
      }
      if (part.isEmpty()) {
        part = "_";
      }
      for (int i = 0; i < part.length(); i++) {
        char c = part.charAt(i);
        boolean ok =
            Character.isLetter(c) && c < 128 || c == '_' || (i > 0 && Character.isDigit(c));
        clean.append(ok ? c : '_');
      }
    }
    String candidate = clean.toString();
    for (int n = 2; !context.usedNames.add(candidate); n++) {
      candidate = clean + String.valueOf(n);
    }
    return candidate;
  }

  /** The Avro field default for a field of Connect schema {@code schema}, or null for none. */
  private Object fieldDefault(Schema schema, org.apache.avro.Schema avro) {
    if (schema.defaultValue() != null) {
      org.apache.avro.Schema target =
          avro.getType() == org.apache.avro.Schema.Type.UNION
                  && !AVRO_TYPE_UNION.equals(schema.name())
              ? avro.getTypes().get(0)
              : avro;
      return defaultToAvro(schema, target, schema.defaultValue());
    }
    if (schema.isOptional()) {
      return org.apache.avro.Schema.Field.NULL_DEFAULT_VALUE;
    }
    return null;
  }

  /** A Connect default as the Java value Avro's {@code Field} accepts for a JSON default. */
  private Object defaultToAvro(Schema schema, org.apache.avro.Schema avro, Object value) {
    if (value == null) {
      return JsonProperties.NULL_VALUE;
    }
    if (avro.getType() == org.apache.avro.Schema.Type.UNION) {
      if (AVRO_TYPE_UNION.equals(schema.name())) {
        // Avro takes a union's default from its first branch only.
        Struct union = (Struct) value;
        for (Field f : schema.fields()) {
          Object member = union.get(f);
          if (member != null) {
            return defaultToAvro(
                f.schema(), avro.getTypes().get(schema.isOptional() ? 1 : 0), member);
          }
        }
        return JsonProperties.NULL_VALUE;
      }
      return defaultToAvro(schema, avro.getTypes().get(0), value);
    }
    Object converted = fromConnectValue(schema, avro, value);
    return toJsonDefault(converted);
  }

  private static Object toJsonDefault(Object avroValue) {
    if (avroValue instanceof ByteBuffer || avroValue instanceof GenericFixed) {
      return new String(bytesOf(avroValue), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
    if (avroValue instanceof GenericEnumSymbol<?> || avroValue instanceof CharSequence) {
      return avroValue.toString();
    }
    if (avroValue instanceof GenericRecord record) {
      Map<String, Object> out = new LinkedHashMap<>();
      for (org.apache.avro.Schema.Field f : record.getSchema().getFields()) {
        Object v = record.get(f.pos());
        out.put(f.name(), v == null ? JsonProperties.NULL_VALUE : toJsonDefault(v));
      }
      return out;
    }
    if (avroValue instanceof Collection<?> items) {
      List<Object> out = new ArrayList<>();
      for (Object item : items) {
        out.add(item == null ? JsonProperties.NULL_VALUE : toJsonDefault(item));
      }
      return out;
    }
    if (avroValue instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach(
          (k, v) ->
              out.put(k.toString(), v == null ? JsonProperties.NULL_VALUE : toJsonDefault(v)));
      return out;
    }
    return avroValue;
  }

  // ---------------------------------------------------------------- Connect -> Avro: data

  /**
   * Converts Connect data to Avro data of {@code avroSchema} (which must be {@link
   * #fromConnectSchema} of {@code schema}): records as {@link GenericData.Record}, enums as {@link
   * GenericData.EnumSymbol}, bytes as {@link ByteBuffer}, logical types as their underlying
   * numbers.
   */
  public Object fromConnectData(Schema schema, org.apache.avro.Schema avroSchema, Object value) {
    return fromConnectValue(schema, avroSchema, value);
  }

  private Object fromConnectValue(Schema schema, org.apache.avro.Schema avro, Object value) {
    if (value == null) {
      if (schema.defaultValue() != null) {
        value = schema.defaultValue();
      } else if (schema.isOptional()) {
        return null;
      } else {
        throw new DataException("Found null for the required Connect schema " + describe(schema));
      }
    }
    if (avro.getType() == org.apache.avro.Schema.Type.UNION
        && !AVRO_TYPE_UNION.equals(schema.name())) {
      // ["null", T] or [T, "null"]: write the non-null branch.
      for (org.apache.avro.Schema member : avro.getTypes()) {
        if (member.getType() != org.apache.avro.Schema.Type.NULL) {
          return fromConnectValue(schema, member, value);
        }
      }
    }
    try {
      switch (schema.type()) {
        case INT8 -> {
          return ((Byte) value).intValue();
        }
        case INT16 -> {
          return ((Short) value).intValue();
        }
        case INT32 -> {
          if (Date.LOGICAL_NAME.equals(schema.name())) {
            return Date.fromLogical(schema, (java.util.Date) value);
          }
          if (Time.LOGICAL_NAME.equals(schema.name())) {
            return Time.fromLogical(schema, (java.util.Date) value);
          }
          return (Integer) value;
        }
        case INT64 -> {
          if (Timestamp.LOGICAL_NAME.equals(schema.name())) {
            return Timestamp.fromLogical(schema, (java.util.Date) value);
          }
          return (Long) value;
        }
        case FLOAT32 -> {
          return (Float) value;
        }
        case FLOAT64 -> {
          return (Double) value;
        }
        case BOOLEAN -> {
          return (Boolean) value;
        }
        case STRING -> {
          String s = (String) value;
          if (avro.getType() == org.apache.avro.Schema.Type.ENUM) {
            if (!avro.hasEnumSymbol(s)) {
              throw new DataException(
                  "'"
                      + s
                      + "' is not a symbol of the Avro enum "
                      + avro.getFullName()
                      + " "
                      + avro.getEnumSymbols());
            }
            return new GenericData.EnumSymbol(avro, s);
          }
          return s;
        }
        case BYTES -> {
          byte[] bytes;
          if (Decimal.LOGICAL_NAME.equals(schema.name())) {
            BigDecimal decimal = (BigDecimal) value;
            int scale = Integer.parseInt(schema.parameters().get(Decimal.SCALE_FIELD));
            if (decimal.scale() != scale) {
              throw new DataException(
                  "Decimal " + decimal + " has scale " + decimal.scale() + ", the schema " + scale);
            }
            bytes = decimal.unscaledValue().toByteArray();
          } else {
            bytes = value instanceof ByteBuffer ? bytesOf(value) : (byte[]) value;
          }
          if (avro.getType() == org.apache.avro.Schema.Type.FIXED) {
            if (bytes.length != avro.getFixedSize()) {
              bytes =
                  padFixed(bytes, avro.getFixedSize(), Decimal.LOGICAL_NAME.equals(schema.name()));
            }
            return new GenericData.Fixed(avro, bytes);
          }
          return ByteBuffer.wrap(bytes);
        }
        case ARRAY -> {
          Collection<?> items = (Collection<?>) value;
          List<Object> out = new GenericData.Array<>(items.size(), avro);
          for (Object item : items) {
            out.add(fromConnectValue(schema.valueSchema(), avro.getElementType(), item));
          }
          return out;
        }
        case MAP -> {
          Map<?, ?> map = (Map<?, ?>) value;
          if (avro.getType() == org.apache.avro.Schema.Type.MAP) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
              out.put(
                  (String) e.getKey(),
                  fromConnectValue(schema.valueSchema(), avro.getValueType(), e.getValue()));
            }
            return out;
          }
          org.apache.avro.Schema entry = avro.getElementType();
          List<Object> out = new GenericData.Array<>(map.size(), avro);
          for (Map.Entry<?, ?> e : map.entrySet()) {
            GenericData.Record record = new GenericData.Record(entry);
            record.put(
                KEY_FIELD,
                fromConnectValue(
                    schema.keySchema(), entry.getField(KEY_FIELD).schema(), e.getKey()));
            record.put(
                VALUE_FIELD,
                fromConnectValue(
                    schema.valueSchema(), entry.getField(VALUE_FIELD).schema(), e.getValue()));
            out.add(record);
          }
          return out;
        }
        case STRUCT -> {
          Struct struct = (Struct) value;
          if (!Objects.equals(struct.schema(), schema) && !sameStruct(struct.schema(), schema)) {
            throw new DataException(
                "A struct of schema "
                    + describe(struct.schema())
                    + " where "
                    + describe(schema)
                    + " was expected");
          }
          if (AVRO_TYPE_UNION.equals(schema.name())) {
            for (Field f : schema.fields()) {
              Object member = struct.get(f);
              if (member != null) {
                org.apache.avro.Schema memberAvro = unionMember(avro, f.schema());
                return fromConnectValue(f.schema(), memberAvro, member);
              }
            }
            if (schema.isOptional()) {
              return null;
            }
            throw new DataException("A Connect union struct with no field set: " + struct);
          }
          GenericData.Record record = new GenericData.Record(avro);
          for (Field f : schema.fields()) {
            org.apache.avro.Schema.Field avroField = avro.getField(f.name());
            record.put(
                avroField.pos(), fromConnectValue(f.schema(), avroField.schema(), struct.get(f)));
          }
          return record;
        }
        default -> throw new DataException("Unknown Connect type " + schema.type());
      }
    } catch (ClassCastException e) {
      throw new DataException(
          "Invalid Java object for Connect schema "
              + describe(schema)
              + ": "
              + value.getClass().getName(),
          e);
    }
  }

  private static boolean sameStruct(Schema a, Schema b) {
    // A struct built against a SchemaBuilder (as defaults are) equals its built schema in shape.
    return a.type() == b.type()
        && Objects.equals(a.name(), b.name())
        && Objects.equals(a.fields(), b.fields());
  }

  private org.apache.avro.Schema unionMember(org.apache.avro.Schema union, Schema memberSchema) {
    org.apache.avro.Schema target = fromConnectSchemaNonOptional(memberSchema);
    for (org.apache.avro.Schema member : union.getTypes()) {
      if (member.getType() == target.getType()
          && (!isNamed(member) || member.getFullName().equals(target.getFullName()))) {
        return member;
      }
    }
    throw new DataException(
        "No branch of the Avro union " + union + " for " + describe(memberSchema));
  }

  private org.apache.avro.Schema fromConnectSchemaNonOptional(Schema schema) {
    return fromConnect(schema, new FromConnectContext(), false);
  }

  private static boolean isNamed(org.apache.avro.Schema s) {
    return s.getType() == org.apache.avro.Schema.Type.RECORD
        || s.getType() == org.apache.avro.Schema.Type.ENUM
        || s.getType() == org.apache.avro.Schema.Type.FIXED;
  }

  private static byte[] padFixed(byte[] bytes, int size, boolean signed) {
    if (bytes.length > size) {
      throw new DataException(
          "Cannot write " + bytes.length + " byte(s) into an Avro fixed of size " + size);
    }
    byte[] out = new byte[size];
    byte pad = signed && bytes.length > 0 && bytes[0] < 0 ? (byte) 0xff : 0;
    java.util.Arrays.fill(out, 0, size - bytes.length, pad);
    System.arraycopy(bytes, 0, out, size - bytes.length, bytes.length);
    return out;
  }
}
