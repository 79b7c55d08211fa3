package io.shoplens.processor.app.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/**
 * What the gateway's bad-input tests check of a refusal: its status, code and message, and that
 * nothing reached the input topics (their end offsets are unchanged).
 */
final class RefusalChecks {
  private final String bootstrapServers;
  private final List<String> inputTopics;
  private final int partitions;

  /**
   * @param bootstrapServers the test's broker
   * @param inputTopics the topics a refused request must not publish to
   * @param partitions partitions of each of them
   */
  RefusalChecks(String bootstrapServers, List<String> inputTopics, int partitions) {
    this.bootstrapServers = bootstrapServers;
    this.inputTopics = List.copyOf(inputTopics);
    this.partitions = partitions;
  }

  /** Runs the request; asserts that nothing was published to the input topics. */
  GatewayClient.Reply withoutPublishing(Supplier<GatewayClient.Reply> request) {
    Map<TopicPartition, Long> before = endOffsets();
    GatewayClient.Reply reply = request.get();
    assertThat(endOffsets()).as("input topics' end offsets").isEqualTo(before);
    return reply;
  }

  /** Asserts the reply's status, error code and a part of its message. */
  static void assertRefused(
      GatewayClient.Reply reply, int status, String code, String messagePart) {
    assertThat(reply.status()).as(reply.json().toString()).isEqualTo(status);
    assertThat(reply.code()).isEqualTo(code);
    assertThat(reply.message()).contains(messagePart);
  }

  private Map<TopicPartition, Long> endOffsets() {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (String topic : inputTopics) {
        for (int p = 0; p < partitions; p++) {
          latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
      }
      Map<TopicPartition, Long> out = new HashMap<>();
      admin
          .listOffsets(latest)
          .all()
          .get(30, TimeUnit.SECONDS)
          .forEach((tp, info) -> out.put(tp, info.offset()));
      return out;
    } catch (Exception e) {
      throw new IllegalStateException("cannot read end offsets", e);
    }
  }
}
