package io.shoplens.demo;

import io.shoplens.processor.app.cli.DurationConverter;
import io.shoplens.processor.app.cli.ShopLensCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code shoplens demo}. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Run the whole flow on this machine, with nothing else installed or running: an",
      "in-process Kafka broker, an in-memory Schema Registry and ShopLens with the bundled tiny",
      "model (random weights: gibberish text), recommendations on. Seeds a small catalog (one",
      "product out of stock), publishes sample uploads and questions (one multi-turn",
      "conversation, one corrupt image), prints captions, answers, recommendations and the dead",
      "letter as they arrive, and exits 0 when all arrived (1 on time-out)."
    })
final class DemoCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--keep-running",
      description = {
        "Keep the broker and ShopLens up afterwards, and serve the registry over REST, the HTTP",
        "gateway and the demo page (prints their addresses)."
      })
  boolean keepRunning;

  @Option(
      names = "--timeout",
      defaultValue = "180s",
      converter = DurationConverter.class,
      description = "How long to wait for all results (default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--http-port",
      defaultValue = "0",
      description = "Port of /health and /metrics (default: any free port).")
  int httpPort;

  @Option(
      names = "--registry-port",
      defaultValue = "8085",
      description = {
        "With --keep-running: port of the Schema Registry's REST API (default ${DEFAULT-VALUE};",
        "0: any free port), for shoplens produce and other processes."
      })
  int registryPort;

  @Option(
      names = "--gateway-port",
      defaultValue = "8081",
      description =
          "With --keep-running: port of the HTTP gateway and its page (default ${DEFAULT-VALUE}).")
  int gatewayPort;

  @Option(
      names = "--bind-address",
      defaultValue = Demo.DEFAULT_BIND_ADDRESS,
      paramLabel = "ADDRESS",
      description = {
        "Where health and metrics, the registry and the gateway listen (default",
        "${DEFAULT-VALUE}: this machine only; 0.0.0.0 opens them, without credentials, to the",
        "network). The in-process Kafka broker listens on every interface whatever this says."
      })
  String bindAddress;

  @Option(
      names = "--model",
      paramLabel = "BUNDLE",
      description = {
        "Run this model bundle directory instead of the bundled demo model: any architecture",
        "the engine serves (blip2-opt, blip2-t5). Checked like shoplens run checks it."
      })
  Path model;

  @Option(names = "--verbose", description = "Show ShopLens's and Kafka's log lines.")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    if (keepRunning) {
      // Ctrl-C: let the demo close ShopLens and the broker before the JVM halts.
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    stop.countDown();
                    try {
                      stopped.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  },
                  "shoplens-demo-stop"));
    }
    try {
      Demo.Result result =
          new Demo(
                  spec.commandLine().getOut(),
                  timeout,
                  httpPort,
                  new Demo.KeptPorts(registryPort, gatewayPort),
                  bindAddress,
                  model)
              .run(keepRunning, stop);
      return result.complete() ? ShopLensCli.OK : ShopLensCli.FAILURE;
    } finally {
      stopped.countDown();
    }
  }
}
