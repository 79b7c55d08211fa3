package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.gateway.GatewayServer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/** {@code shoplens gateway}: the storefront's HTTP API in front of a running ShopLens. */
@Command(
    name = "gateway",
    description = {
      "Serve the HTTP API for uploads and questions (REST + Server-Sent Events, /openapi.json)",
      "in front of a ShopLens that runs elsewhere, until stopped (SIGTERM/Ctrl-C). It needs",
      "Kafka and the Schema Registry (bootstrap.servers, schema.registry.url) and the",
      "shoplens.gateway.* settings; it loads no model. Run as many instances as you like: each",
      "reads every output partition, so any of them serves any client."
    })
final class GatewayCommand extends ServiceCommand {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayCommand.class);

  @Override
  ShopLensConfig settings() {
    return ShopLensConfig.validateForGateway(configOptions.merge().settings());
  }

  @Override
  int serve(ShopLensConfig settings) throws InterruptedException {
    CountDownLatch stopping = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    // The hook lets the server close before the JVM exits: it signals, then waits (bounded).
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.countDown();
                  awaitQuietly(closed);
                },
                "shoplens-gateway-shutdown"));
    try (GatewayServer server =
        GatewayServer.start(settings.gatewayConfig(), settings.kafkaProperties())) {
      out().println("gateway listening on port " + server.port());
      stopping.await();
    } finally {
      closed.countDown();
    }
    return ShopLensCli.OK;
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        LOG.warn("gateway did not close within 30 s; exiting anyway");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
