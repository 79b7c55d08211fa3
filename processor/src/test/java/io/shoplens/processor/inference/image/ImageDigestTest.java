package io.shoplens.processor.inference.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ImageDigestTest {
  @Test
  void shouldHashRawBytesWithSha256InLowerCaseHex() {
    // Known vector: sha256("abc")
    assertThat(ImageDigest.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }

  @Test
  void shouldGiveDifferentKeysToDifferentBytes() {
    assertThat(ImageDigest.sha256Hex(new byte[] {1}))
        .isNotEqualTo(ImageDigest.sha256Hex(new byte[] {2}))
        .hasSize(64);
  }
}
