package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The gateway's traffic counters, {@code shoplens.gateway.published} by event and {@code
 * shoplens.gateway.rejections} by code, and the refusal body that is counted as it is built, so
 * that every refusal the client sees is one the metrics show.
 */
final class GatewayCounters {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MeterRegistry metrics;

  GatewayCounters(MeterRegistry metrics) {
    this.metrics = metrics;
  }

  /** A refusal's body, {@code {code, message}}, counted by code. */
  ObjectNode refusal(String code, String message) {
    Counter.builder("shoplens.gateway.rejections").tag("code", code).register(metrics).increment();
    ObjectNode out = JSON.createObjectNode();
    out.put("code", code);
    out.put("message", message);
    return out;
  }

  void published(String what) {
    Counter.builder("shoplens.gateway.published").tag("event", what).register(metrics).increment();
  }
}
