package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The inference state stores' JSON is unchanged by the renames of the structure work ({@code
 * State.Job} became {@link InferenceJob}, {@code State} became {@link StoredState}): values written
 * by the earlier release (commit 0c13b79) are read back after an upgrade, so no job is lost; the
 * expiry index keys, now an {@link ExpiryKey} with one codec, keep the bytes they had.
 */
class StoreFormatCompatibilityTest {
  private static final String ORIGIN =
      "{\"topic\":\"shoplens.uploads\",\"partition\":1,\"offset\":7,\"timestamp\":1700000000000,"
          + "\"key\":\"dS0x\",\"value\":\"AQID\",\"headers\":[{\"name\":\"trace\",\"value\":\"dA==\"}]}";

  @Test
  void shouldReadAnInFlightJobWrittenByTheEarlierRelease() {
    // Given the bytes State.Job wrote for a conversation turn
    String old =
        "{\"id\":\"A|shoplens.questions|1|0000000000000000007\",\"kind\":\"ANSWER\","
            + "\"uploadId\":\"u-1\",\"conversationKey\":\"u-1\\u0000c-1\",\"origin\":"
            + ORIGIN
            + ",\"attempts\":2}";

    // When
    InferenceJob job =
        JsonStoreSerde.of(InferenceJob.class).deserializer().deserialize("changelog", bytes(old));

    // Then
    assertThat(job.id()).isEqualTo("A|shoplens.questions|1|0000000000000000007");
    assertThat(job.kind()).isEqualTo(InferenceJob.Kind.ANSWER);
    assertThat(job.uploadId()).isEqualTo("u-1");
    assertThat(job.conversationKey()).isEqualTo("u-1\u0000c-1");
    assertThat(job.sequenceKey()).isEqualTo("u-1\u0000c-1");
    assertThat(job.attempts()).isEqualTo(2);
    assertOrigin(job.origin());
  }

  @Test
  void shouldWriteAnInFlightJobAsTheEarlierReleaseDid() {
    // Given a job as the current code makes it
    Origin origin =
        new Origin("shoplens.uploads", 1, 7, 5L, bytes("u-1"), new byte[] {1}, List.of());
    InferenceJob job = InferenceJob.of(InferenceJob.Kind.CAPTION, "u-1", null, origin);

    // When
    String json =
        new String(
            JsonStoreSerde.of(InferenceJob.class).serializer().serialize("changelog", job),
            StandardCharsets.UTF_8);

    // Then the fields, in the order State.Job wrote them, and nothing else: a rollback reads it
    assertThat(json)
        .isEqualTo(
            "{\"id\":\"C|shoplens.uploads|1|0000000000000000007\",\"kind\":\"CAPTION\","
                + "\"uploadId\":\"u-1\",\"conversationKey\":null,\"origin\":{\"topic\":"
                + "\"shoplens.uploads\",\"partition\":1,\"offset\":7,\"timestamp\":5,"
                + "\"key\":\"dS0x\",\"value\":\"AQ==\",\"headers\":[]},\"attempts\":0}");
  }

  @Test
  void shouldReadUploadsWaitingQuestionsAndConversationsWrittenByTheEarlierRelease() {
    // Given the bytes State.StoredUpload, State.WaitingQuestion and State.Conversation wrote
    String upload = "{\"origin\":" + ORIGIN + ",\"storedAt\":11}";
    String waiting =
        "{\"uploadId\":\"u-1\",\"conversationKey\":null,\"origin\":"
            + ORIGIN
            + ",\"arrivedAt\":12}";
    String conversation =
        "{\"turns\":[{\"question\":\"q\",\"answer\":\"a\",\"tokens\":2}],\"updatedAt\":13}";

    // When
    StoredState.StoredUpload readUpload =
        JsonStoreSerde.of(StoredState.StoredUpload.class)
            .deserializer()
            .deserialize("changelog", bytes(upload));
    StoredState.WaitingQuestion readWaiting =
        JsonStoreSerde.of(StoredState.WaitingQuestion.class)
            .deserializer()
            .deserialize("changelog", bytes(waiting));
    StoredState.Conversation readConversation =
        JsonStoreSerde.of(StoredState.Conversation.class)
            .deserializer()
            .deserialize("changelog", bytes(conversation));

    // Then
    assertOrigin(readUpload.origin());
    assertThat(readUpload.storedAt()).isEqualTo(11);
    assertThat(readWaiting.uploadId()).isEqualTo("u-1");
    assertThat(readWaiting.conversationKey()).isNull();
    assertOrigin(readWaiting.origin());
    assertThat(readWaiting.arrivedAt()).isEqualTo(12);
    assertThat(readConversation.turns()).containsExactly(new StoredState.StoredTurn("q", "a", 2));
    assertThat(readConversation.updatedAt()).isEqualTo(13);
  }

  @Test
  void shouldReadExpiryIndexKeysWrittenByTheEarlierRelease() {
    // Given index keys as IntakeProcessor wrote them with String.format("%019d|%c|%s", ...)
    String upload = String.format("%019d|%c|%s", 1_000L, 'U', "u-1");
    String waiting = String.format("%019d|%c|%s", 2_000L, 'W', "u-1|0000000000000000042");
    String conversation = String.format("%019d|%c|%s", 3_000L, 'C', "u-1\u0000c-1");

    // When read with today's codec
    ExpiryKey readUpload = ExpiryKey.serde().deserializer().deserialize("changelog", bytes(upload));
    ExpiryKey readWaiting = ExpiryKey.decode(waiting);
    ExpiryKey readConversation = ExpiryKey.decode(conversation);

    // Then each is the key the current code would write for the same entry
    assertThat(readUpload).isEqualTo(new ExpiryKey(1_000L, ExpiryKey.Kind.UPLOAD, "u-1"));
    assertThat(readWaiting)
        .isEqualTo(
            new ExpiryKey(2_000L, ExpiryKey.Kind.WAITING_QUESTION, "u-1|0000000000000000042"));
    assertThat(readConversation)
        .isEqualTo(new ExpiryKey(3_000L, ExpiryKey.Kind.CONVERSATION, "u-1\u0000c-1"));
    assertThat(readUpload.encode()).isEqualTo(upload);
  }

  private static void assertOrigin(Origin origin) {
    assertThat(origin.coordinates()).isEqualTo("shoplens.uploads-1@7");
    assertThat(origin.timestamp()).isEqualTo(1_700_000_000_000L);
    assertThat(origin.key()).isEqualTo(bytes("u-1"));
    assertThat(origin.value()).containsExactly(1, 2, 3);
    assertThat(origin.headers()).hasSize(1);
    assertThat(origin.headers().get(0).name()).isEqualTo("trace");
    assertThat(origin.headers().get(0).value()).isEqualTo(bytes("t"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
