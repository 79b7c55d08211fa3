package io.shoplens.serde;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * Constants of Confluent's wire format, and the parsing of where a record names its writer schema,
 * shared by the deserializer and the Connect converter (each words its own errors).
 */
public final class WireFormat {
  /** First byte of a payload that starts with a schema id. */
  public static final byte MAGIC_BYTE = 0x0;

  /** First byte of a schema-id header value holding a 16-byte schema GUID. */
  public static final byte MAGIC_BYTE_GUID = 0x1;

  /** Bytes of the big-endian schema id after the magic byte. */
  public static final int ID_SIZE = 4;

  /** Bytes before the Avro body: magic byte and schema id. */
  public static final int PREFIX_SIZE = 1 + ID_SIZE;

  /** Record header that carries a key's schema id or GUID instead of the payload prefix. */
  public static final String KEY_SCHEMA_ID_HEADER = "__key_schema_id";

  /** Record header that carries a value's schema id or GUID instead of the payload prefix. */
  public static final String VALUE_SCHEMA_ID_HEADER = "__value_schema_id";

  private WireFormat() {}

  /**
   * The writer schema a record names: exactly one of a registry id (payload prefix or header) or a
   * GUID (header only).
   */
  public record SchemaReference(Integer id, String guid) {
    /** Checks that exactly one of id and guid is set. */
    public SchemaReference {
      if ((id == null) == (guid == null)) {
        throw new IllegalArgumentException(
            "expected exactly one of a schema id and a GUID, got id " + id + " and guid " + guid);
      }
    }

    /** How error messages name it: {@code id 42} or {@code guid 3f2a...}. */
    public String describe() {
      return id != null ? "id " + id : "guid " + guid;
    }
  }

  /** The header that carries the schema reference of a key ({@code true}) or a value. */
  public static String schemaIdHeader(boolean isKey) {
    return isKey ? KEY_SCHEMA_ID_HEADER : VALUE_SCHEMA_ID_HEADER;
  }

  /**
   * Parses a schema-id header value: {@link #MAGIC_BYTE_GUID} and a 16-byte GUID, or {@link
   * #MAGIC_BYTE} and a 4-byte big-endian id. The Avro body then starts at the payload's first byte.
   *
   * @return the reference, or null if {@code value} is null or neither form
   */
  public static SchemaReference fromHeader(byte[] value) {
    if (value != null && value.length == 1 + 16 && value[0] == MAGIC_BYTE_GUID) {
      ByteBuffer b = ByteBuffer.wrap(value, 1, 16);
      return new SchemaReference(null, new UUID(b.getLong(), b.getLong()).toString());
    }
    if (value != null && value.length == PREFIX_SIZE && value[0] == MAGIC_BYTE) {
      return new SchemaReference(ByteBuffer.wrap(value, 1, ID_SIZE).getInt(), null);
    }
    return null;
  }

  /**
   * The schema id in a payload's prefix; the Avro body then starts at {@link #PREFIX_SIZE}.
   *
   * @throws IllegalArgumentException if the payload is shorter than the prefix or does not start
   *     with {@link #MAGIC_BYTE}: callers check first, to word the error for their own API
   */
  public static SchemaReference fromPayload(byte[] payload) {
    if (payload.length < PREFIX_SIZE || payload[0] != MAGIC_BYTE) {
      throw new IllegalArgumentException("not a Confluent wire-format payload");
    }
    return new SchemaReference(ByteBuffer.wrap(payload, 1, ID_SIZE).getInt(), null);
  }
}
