package io.shoplens.processor.app.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.shoplens.processor.app.admin.TopicAdmin;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

class InputEventsTest {

  @Test
  void shouldMakeInputProducersDurableIdempotentAndLargeEnoughForInlineImages() {
    // Given client settings as the commands hold them: cluster, security, registry and others
    Map<String, Object> client =
        Map.of(
            "bootstrap.servers",
            "k:9092",
            "security.protocol",
            "SSL",
            "schema.registry.url",
            "http://registry",
            "application.id",
            "shoplens",
            ProducerConfig.ACKS_CONFIG,
            "1");

    // When the input producer's settings are taken from them
    Map<String, Object> props = InputEvents.producerSettings(client);

    // Then only producer keys are kept, and the input guarantees win over what was given
    assertThat(props)
        .containsEntry("bootstrap.servers", "k:9092")
        .containsEntry("security.protocol", "SSL")
        .doesNotContainKeys("schema.registry.url", "application.id")
        .containsEntry(ProducerConfig.ACKS_CONFIG, "all")
        .containsEntry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true)
        .containsEntry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicAdmin.LARGE_MESSAGE_BYTES);
    // And the map is the caller's to add to (the gateway names its client)
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "shoplens-gateway");
    assertThat(props).containsKey(ProducerConfig.CLIENT_ID_CONFIG);
  }
}
