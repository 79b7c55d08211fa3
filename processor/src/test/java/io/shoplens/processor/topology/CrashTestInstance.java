package io.shoplens.processor.topology;

import static io.shoplens.processor.testing.KafkaTestClients.streamsProperties;

import io.shoplens.processor.images.ImageResolver;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStats;
import io.shoplens.processor.inference.GenerationRequest;
import io.shoplens.processor.inference.GenerationResult;
import io.shoplens.processor.inference.InferenceEngine;
import io.shoplens.processor.inference.TinyBundle;
import io.shoplens.processor.testing.TinyModelCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;

/**
 * One ShopLens Streams instance in its own JVM, for {@link ExactlyOnceCrashIT}: the tiny model, the
 * real topology, exactly-once, against the parent's broker. The parent kills it with SIGKILL, or
 * asks it to halt itself from inside an engine completion ({@code halt-after}), so that a crash
 * lands between a result being computed and being committed.
 *
 * <p>Arguments, {@code key=value}: {@code bootstrap}, {@code scope} (the {@code mock://} registry
 * scope; schemas are registered with {@link FixedSchemaIds} so ids match the parent's), {@code
 * app-id}, {@code state-dir} (the same on every restart: it keeps the Streams process id, hence the
 * transactional id, so a restart fences its predecessor's open transaction at once), {@code
 * halt-after} (engine results after which {@code Runtime.halt(HALT_EXIT_CODE)}; 0: never).
 */
public final class CrashTestInstance {
  /** Exit code of a halt from inside; anything else means the instance failed on its own. */
  public static final int HALT_EXIT_CODE = 86;

  /** Settings shared with the parent, which computes expected outputs with the same ones. */
  static ShopLensTopologyConfig topologyConfig(String scope) {
    return ShopLensTopologyConfig.builder(FixedSchemaIds.serdeConfig(scope))
        .modelId("shoplens/tiny-blip2-opt")
        .imageTokens(10)
        .captionOptions(DecodingOptions.greedy().withMaxNewTokens(6))
        .attributePrompts(ShopLensTopologyConfig.DEFAULT_ATTRIBUTE_PROMPTS.subList(0, 2))
        .attributeOptions(DecodingOptions.greedy().withMaxNewTokens(3))
        .answerOptions(DecodingOptions.greedy().withMaxNewTokens(5))
        // Small enough that each kill cuts through a few batches, not the whole backlog.
        .maxInFlightRequests(16)
        .build();
  }

  static EngineConfig engineConfig() {
    return TinyModelCluster.engineConfig();
  }

  private CrashTestInstance() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("expected key=value, got " + arg);
      }
      a.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    String scope = required(a, "scope");
    int haltAfter = Integer.parseInt(a.getOrDefault("halt-after", "0"));
    FixedSchemaIds.register(scope);
    ShopLensTopologyConfig config = topologyConfig(scope);

    BatchingInferenceEngine engine =
        BatchingInferenceEngine.start(TinyBundle.dir(), engineConfig());
    StreamsBuilder builder = new StreamsBuilder();
    ShopLensTopology.build(
        builder, config, new HaltingEngine(engine, haltAfter), ImageResolver.inlineOnly(1_000_000));
    Properties props =
        streamsProperties(
            config, required(a, "bootstrap"), required(a, "app-id"), required(a, "state-dir"));
    // Static membership: the restarted instance takes over the killed one's place in the group at
    // once, instead of a rebalance that waits for the dead member's session to time out.
    props.put(
        StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), "crash-it-1");
    props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);

    KafkaStreams streams = new KafkaStreams(builder.build(props), props);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setUncaughtExceptionHandler(
        e -> {
          System.err.println("CRASH-IT stream thread failed: " + e);
          e.printStackTrace();
          Runtime.getRuntime().halt(1);
          return null;
        });
    streams.setStateListener(
        (now, before) -> {
          System.out.println("CRASH-IT state " + before + " -> " + now);
          if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
            stopped.countDown();
          }
        });
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  if (!streams.close(Duration.ofSeconds(20))) {
                    System.err.println("CRASH-IT streams did not close within 20 s");
                  }
                  engine.close();
                },
                "crash-it-shutdown"));
    streams.start();
    stopped.await();
  }

  private static String required(Map<String, String> args, String key) {
    String v = args.get(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("missing argument " + key + "=...");
    }
    return v;
  }

  /**
   * The real engine, halting the JVM right after its {@code haltAfter}-th result is computed: that
   * job is done but not yet forwarded, its batch neighbours are mid-flight, and the open
   * transaction holds other jobs' outputs.
   */
  private static final class HaltingEngine implements InferenceEngine {
    private final InferenceEngine delegate;
    private final int haltAfter;
    private final AtomicInteger results = new AtomicInteger();

    HaltingEngine(InferenceEngine delegate, int haltAfter) {
      this.delegate = delegate;
      this.haltAfter = haltAfter;
    }

    @Override
    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
      CompletableFuture<GenerationResult> result = delegate.submit(request);
      if (haltAfter <= 0) {
        return result;
      }
      return result.thenApply(
          r -> {
            if (results.incrementAndGet() == haltAfter) {
              System.out.println("CRASH-IT halting after " + haltAfter + " engine results");
              System.out.flush();
              Runtime.getRuntime().halt(HALT_EXIT_CODE);
            }
            return r;
          });
    }

    @Override
    public CompletableFuture<float[]> embed(String requestId, byte[] image) {
      return delegate.embed(requestId, image);
    }

    @Override
    public EngineStats stats() {
      return delegate.stats();
    }

    @Override
    public String modelVersion() {
      return delegate.modelVersion();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
