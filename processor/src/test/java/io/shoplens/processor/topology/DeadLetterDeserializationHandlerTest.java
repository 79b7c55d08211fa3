package io.shoplens.processor.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.registry.MockSchemaRegistry;
import io.shoplens.serde.RetriableSerializationException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Response;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.Result;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeadLetterDeserializationHandlerTest {
  private String scope;
  private DeadLetterDeserializationHandler handler;
  private final ConsumerRecord<byte[], byte[]> record =
      new ConsumerRecord<>(
          Topics.QUESTIONS,
          2,
          41L,
          "up-1".getBytes(StandardCharsets.UTF_8),
          new byte[] {0, 0, 0, 0, 2, 1, 2, 3});

  @BeforeEach
  void handlerWithAWorkingDeadLetterSerializer() {
    // The dead-letter schema is registered, so writing a dead letter works: as in an instance
    // whose dead-letter serializer has cached its schema id before the registry went away.
    scope = "dl-handler-" + UUID.randomUUID();
    FixedSchemaIds.register(scope);
    handler = new DeadLetterDeserializationHandler();
    handler.configure(FixedSchemaIds.serdeConfig(scope));
  }

  @AfterEach
  void dropRegistry() {
    MockSchemaRegistry.dropScope(scope);
  }

  @Test
  void shouldDeadLetterBytesThatCannotBeRead() {
    Response response =
        handler.handleError(
            null, record, new SerializationException("Unknown magic byte 0x07 for topic x"));

    assertThat(response.result()).isEqualTo(Result.RESUME);
    assertThat(response.deadLetterQueueRecords())
        .singleElement()
        .satisfies(dl -> assertThat(dl.topic()).isEqualTo(Topics.DEAD_LETTERS));
  }

  @Test
  void shouldFailTheTaskInsteadOfDeadLetteringAGoodRecordWhenTheRegistryIsUnreachable() {
    // Given a record whose writer schema could not be fetched: the registry answered 503
    Exception unreachable =
        new RetriableSerializationException(
            "Cannot fetch the writer schema for topic 'shoplens.questions.v1': HTTP 503", null);

    // When the handler sees it, directly or wrapped
    Response direct = handler.handleError(null, record, unreachable);
    Response wrapped =
        handler.handleError(null, record, new RuntimeException("deserializing", unreachable));

    // Then the task fails (the record is read again later) and no dead letter is written
    assertThat(direct.result()).isEqualTo(Result.FAIL);
    assertThat(direct.deadLetterQueueRecords()).isEmpty();
    assertThat(wrapped.result()).isEqualTo(Result.FAIL);
    assertThat(wrapped.deadLetterQueueRecords()).isEmpty();
  }
}
