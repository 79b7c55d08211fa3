package io.shoplens.processor.topology.recommend;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.topology.Origin;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

/**
 * The catalog in-flight store's JSON: a job written by an earlier release (before it carried an
 * {@link Origin}) is still read back after an upgrade, so that it is re-submitted, not lost.
 */
class CatalogJobFormatTest {
  private final Serde<CatalogJob> serde = CatalogJob.serde();

  @Test
  void shouldReadAJobWrittenBeforeItCarriedAnOrigin() {
    // Given the bytes the 0c13b79 CatalogJob wrote (coordinates, bytes and headers at top level)
    String old =
        "{\"productId\":\"p-1\",\"topic\":\"shoplens.catalog\",\"partition\":2,\"offset\":41,"
            + "\"timestamp\":1700000000000,\"key\":\"cC0x\",\"value\":\"AAECAw==\","
            + "\"headers\":[{\"name\":\"trace\",\"value\":\"dA==\"},{\"name\":\"empty\",\"value\":null}],"
            + "\"attempts\":1}";

    // When
    CatalogJob job = serde.deserializer().deserialize("changelog", bytes(old));

    // Then every field is where the current job keeps it
    assertThat(job.id()).isEqualTo("p-1");
    assertThat(job.attempts()).isEqualTo(1);
    Origin origin = job.origin();
    assertThat(origin.topic()).isEqualTo("shoplens.catalog");
    assertThat(origin.partition()).isEqualTo(2);
    assertThat(origin.offset()).isEqualTo(41);
    assertThat(origin.timestamp()).isEqualTo(1_700_000_000_000L);
    assertThat(origin.key()).isEqualTo("p-1".getBytes(StandardCharsets.UTF_8));
    assertThat(origin.value()).containsExactly(0, 1, 2, 3);
    assertThat(origin.headers()).hasSize(2);
    assertThat(origin.headers().get(0).name()).isEqualTo("trace");
    assertThat(origin.headers().get(0).value()).isEqualTo(bytes("t"));
    assertThat(origin.headers().get(1).name()).isEqualTo("empty");
    assertThat(origin.headers().get(1).value()).isNull();
    assertThat(origin.coordinates()).isEqualTo("shoplens.catalog-2@41");
  }

  @Test
  void shouldWriteTheCurrentFormAndReadItBack() {
    // Given a current job
    Origin origin =
        new Origin(
            "shoplens.catalog",
            0,
            7,
            5L,
            bytes("p-2"),
            new byte[] {9},
            List.of(new Origin.RawHeader("h", bytes("v"))));
    CatalogJob job = new CatalogJob("p-2", origin, 3);

    // When
    byte[] written = serde.serializer().serialize("changelog", job);
    CatalogJob read = serde.deserializer().deserialize("changelog", written);

    // Then it is written with a nested origin (not the old top-level fields) and read back whole
    String json = new String(written, StandardCharsets.UTF_8);
    assertThat(json).contains("\"origin\":{\"topic\":\"shoplens.catalog\"");
    assertThat(json).contains("\"productId\":\"p-2\"");
    assertThat(read.id()).isEqualTo("p-2");
    assertThat(read.attempts()).isEqualTo(3);
    assertThat(read.origin().coordinates()).isEqualTo("shoplens.catalog-0@7");
    assertThat(read.origin().timestamp()).isEqualTo(5L);
    assertThat(read.origin().key()).isEqualTo(bytes("p-2"));
    assertThat(read.origin().value()).containsExactly(9);
    assertThat(read.origin().headers()).hasSize(1);
    assertThat(read.origin().headers().get(0).value()).isEqualTo(bytes("v"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
