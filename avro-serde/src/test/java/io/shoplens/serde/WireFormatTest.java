package io.shoplens.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class WireFormatTest {
  @Test
  void shouldReadAnIdOrAGuidFromASchemaIdHeader() {
    // Given an id header and a GUID header
    byte[] idHeader = ByteBuffer.allocate(5).put(WireFormat.MAGIC_BYTE).putInt(258).array();
    UUID guid = UUID.fromString("3f2a9c1e-7b4d-4e8a-9f00-0123456789ab");
    byte[] guidHeader =
        ByteBuffer.allocate(17)
            .put(WireFormat.MAGIC_BYTE_GUID)
            .putLong(guid.getMostSignificantBits())
            .putLong(guid.getLeastSignificantBits())
            .array();

    // When they are parsed, then each names its schema
    assertThat(WireFormat.fromHeader(idHeader))
        .isEqualTo(new WireFormat.SchemaReference(258, null))
        .extracting(WireFormat.SchemaReference::describe)
        .isEqualTo("id 258");
    assertThat(WireFormat.fromHeader(guidHeader).describe()).isEqualTo("guid " + guid);
  }

  @Test
  void shouldRefuseHeadersOfNeitherForm() {
    // Given a null header, a GUID magic byte before an id, an id magic byte before a GUID
    byte[] guidByteShort = {WireFormat.MAGIC_BYTE_GUID, 0, 0, 1, 2};
    byte[] idByteLong = new byte[17];

    // Then none is read as a schema reference
    assertThat(WireFormat.fromHeader(null)).isNull();
    assertThat(WireFormat.fromHeader(guidByteShort)).isNull();
    assertThat(WireFormat.fromHeader(idByteLong)).isNull();
  }

  @Test
  void shouldReadTheIdFromAPayloadPrefixAndRefuseAnUnprefixedPayload() {
    // Given a payload with the id prefix before its Avro body
    byte[] payload = {WireFormat.MAGIC_BYTE, 0, 0, 0, 7, 42};

    // Then its id is read; a wrong magic byte or a truncated prefix is refused
    assertThat(WireFormat.fromPayload(payload).id()).isEqualTo(7);
    assertThatThrownBy(() -> WireFormat.fromPayload(new byte[] {1, 0, 0, 0, 7}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> WireFormat.fromPayload(new byte[] {0, 0}))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
