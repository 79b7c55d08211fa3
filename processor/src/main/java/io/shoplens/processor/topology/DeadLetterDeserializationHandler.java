package io.shoplens.processor.topology;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.topology.jobs.DeadLetters;
import io.shoplens.serde.RetriableSerializationException;
import io.shoplens.serde.SpecificAvroSerde;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a record that cannot be deserialized (garbage bytes, an unknown schema id, a schema the
 * reader cannot resolve, a malformed key) into a {@link DeadLetter} at stage {@code DESERIALIZE}
 * and lets the application continue, through Kafka Streams' own dead-letter support (KIP-1034): the
 * dead letter is produced by Streams in the task's transaction, so under exactly-once it is written
 * exactly when the input offset is committed.
 *
 * <p>Configured through the Streams configuration: {@code deserialization.exception.handler} names
 * this class, {@code errors.dead.letter.queue.topic.name} the topic (default {@value
 * Topics#DEAD_LETTERS}), and the Avro serde settings ({@code schema.registry.url}, ...) are read
 * from the same map. If the dead letter itself cannot be serialized (the registry is down), the
 * handler fails the task rather than lose the record.
 *
 * <p>A record that failed only because the registry could not be reached ({@link
 * RetriableSerializationException} anywhere in the cause chain) is not bad input: it is never
 * dead-lettered, the handler fails the task instead, so that the record is read again once the
 * application is restarted (exactly-once: its offset was not committed). Dead-lettering it would
 * drop a good upload or question whenever an instance with a cold schema cache met a registry
 * outage while its dead-letter serializer still worked (found by {@code MultiInstanceFaultIT}).
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

  private String topic = Topics.DEAD_LETTERS;
  private SpecificAvroSerde<DeadLetter> serde;

  @Override
  public void configure(Map<String, ?> configs) {
    Object name = configs.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    if (name != null && !name.toString().isBlank()) {
      topic = name.toString();
    }
    serde = new SpecificAvroSerde<>(DeadLetter.class);
    serde.configure(configs, false);
  }

  @Override
  public Response handleError(
      ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    if (registryUnreachable(exception)) {
      LOG.error(
          "cannot deserialize {}-{}@{} while the Schema Registry is unreachable: {}; failing the"
              + " task so that the record is read again, not dead-lettered",
          record.topic(),
          record.partition(),
          record.offset(),
          exception.toString());
      return Response.fail();
    }
    Origin origin =
        new Origin(
            record.topic(),
            record.partition(),
            record.offset(),
            record.timestamp(),
            record.key(),
            record.value(),
            headers(record.headers()));
    DeadLetter dl =
        DeadLetters.of(
            origin, ProcessingStage.DESERIALIZE, exception, 1, System.currentTimeMillis());
    byte[] value;
    try {
      value = serde.serializer().serialize(topic, dl);
    } catch (RuntimeException e) {
      LOG.error(
          "cannot write the dead letter for {}: {}; failing the task",
          origin.coordinates(),
          e.toString());
      return Response.fail();
    }
    LOG.info(
        "dead-lettering {} at stage DESERIALIZE: {}", origin.coordinates(), exception.toString());
    Headers headers =
        LineageHeaders.of(record.topic(), record.partition(), record.offset(), null, null);
    return Response.resume(
        List.of(new ProducerRecord<>(topic, null, record.key(), value, headers)));
  }

  private static boolean registryUnreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RetriableSerializationException) {
        return true;
      }
    }
    return false;
  }

  private static List<Origin.RawHeader> headers(Headers headers) {
    List<Origin.RawHeader> out = new ArrayList<>();
    headers.forEach(h -> out.add(new Origin.RawHeader(h.key(), h.value())));
    return out;
  }
}
