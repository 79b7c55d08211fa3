package io.shoplens.serde;

/** Constants of Confluent's wire format. */
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
}
