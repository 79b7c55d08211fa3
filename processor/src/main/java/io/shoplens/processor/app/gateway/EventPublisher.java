package io.shoplens.processor.app.gateway;

import io.shoplens.processor.app.client.InputEvents;
import io.shoplens.processor.topology.Topic;
import io.shoplens.processor.topology.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes the gateway's input events: one idempotent producer (acks=all), key = uploadId, values
 * in each {@link Topic}'s own serde. A value is serialized before anything is sent, so a record
 * that cannot be encoded fails the request without reaching Kafka; a send is acknowledged before
 * the request is answered, so an upload's 201 means ShopLens will see it, and a question asked
 * after it lands behind it in the same partition.
 */
final class EventPublisher implements AutoCloseable {
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

  private final KafkaProducer<String, byte[]> producer;

  EventPublisher(Map<String, Object> clientProps) {
    Map<String, Object> props = InputEvents.producerSettings(clientProps);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "shoplens-gateway");
    producer =
        new KafkaProducer<>(props, Topics.keySerde().serializer(), new ByteArraySerializer());
  }

  KafkaProducer<String, byte[]> producer() {
    return producer;
  }

  /**
   * Sends one record and waits for its acknowledgement.
   *
   * @throws ApiError 503 when Kafka does not acknowledge in time
   */
  <V> void publish(Topic<String, V> topic, String uploadId, V value) {
    byte[] bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
    try {
      producer
          .send(new ProducerRecord<>(topic.name(), uploadId, bytes))
          .get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "unavailable", "interrupted while publishing; try again");
    } catch (ExecutionException | TimeoutException e) {
      throw new ApiError(
          503, "unavailable", "Kafka did not acknowledge the event in time; try again");
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
