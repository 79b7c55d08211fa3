package io.shoplens.processor.app.replay;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.ProcessorWrapper;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.api.WrappedFixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.WrappedProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * Confines the unchanged ShopLens topology to a replay window, through Kafka Streams' processor
 * wrapper hook ({@code processor.wrapper.class}, KIP-1112), so the topology itself knows nothing
 * about replays:
 *
 * <ul>
 *   <li>in front of the intake processor ({@value #INTAKE}), a gate asks the {@link ReplayWindow}
 *       about every input record: records outside the window never reach intake;
 *   <li>after intake ({@value #AFTER_INTAKE}, the branch that routes its decisions), work whose
 *       record is stamped before the window is dropped: that is the caption of an upload read only
 *       for context, which intake has stored for the questions of the window.
 * </ul>
 *
 * <p>Configured with the {@link ReplayWindow} object under {@link #WINDOW_CONFIG} in the configs
 * given to the {@code StreamsBuilder}. {@link ReplayWindow#wrappedProcessors()} tells which of the
 * two processors were found, so a renamed processor fails the replay at start instead of silently
 * replaying all.
 */
public final class ReplayProcessorWrapper implements ProcessorWrapper {
  /** Config key holding the {@link ReplayWindow} instance. */
  public static final String WINDOW_CONFIG = "shoplens.replay.window";

  /** Name of the topology's intake processor. */
  static final String INTAKE = "intake";

  /** Name of the branch processor right after intake. */
  static final String AFTER_INTAKE = "intake-";

  /** Names this wrapper must find in the topology. */
  static final Set<String> REQUIRED = Set.of(INTAKE, AFTER_INTAKE);

  private ReplayWindow window;

  @Override
  public void configure(Map<String, ?> configs) {
    Object w = configs.get(WINDOW_CONFIG);
    if (!(w instanceof ReplayWindow rw)) {
      throw new IllegalArgumentException(
          WINDOW_CONFIG + " must hold a ReplayWindow instance, found " + w);
    }
    window = rw;
  }

  @Override
  public <KIn, VIn, KOut, VOut>
      WrappedProcessorSupplier<KIn, VIn, KOut, VOut> wrapProcessorSupplier(
          String processorName, ProcessorSupplier<KIn, VIn, KOut, VOut> supplier) {
    Objects.requireNonNull(window, "configure() was not called");
    if (!REQUIRED.contains(processorName)) {
      return ProcessorWrapper.asWrapped(supplier);
    }
    window.wrapped(processorName);
    boolean gate = processorName.equals(INTAKE);
    ReplayWindow w = window;
    return new WrappedProcessorSupplier<>() {
      @Override
      public Processor<KIn, VIn, KOut, VOut> get() {
        Processor<KIn, VIn, KOut, VOut> inner = supplier.get();
        return gate ? new Gate<>(inner, w) : new DropBeforeWindow<>(inner, w);
      }

      @Override
      public Set<StoreBuilder<?>> stores() {
        return supplier.stores();
      }
    };
  }

  @Override
  public <KIn, VIn, VOut>
      WrappedFixedKeyProcessorSupplier<KIn, VIn, VOut> wrapFixedKeyProcessorSupplier(
          String processorName, FixedKeyProcessorSupplier<KIn, VIn, VOut> supplier) {
    return ProcessorWrapper.asWrappedFixedKey(supplier);
  }

  /** Passes only the records the window wants processed, or stored for context. */
  private static final class Gate<KIn, VIn, KOut, VOut> implements Processor<KIn, VIn, KOut, VOut> {
    private final Processor<KIn, VIn, KOut, VOut> inner;
    private final ReplayWindow window;
    private ProcessorContext<KOut, VOut> context;

    Gate(Processor<KIn, VIn, KOut, VOut> inner, ReplayWindow window) {
      this.inner = inner;
      this.window = window;
    }

    @Override
    public void init(ProcessorContext<KOut, VOut> context) {
      this.context = context;
      inner.init(context);
    }

    @Override
    public void process(Record<KIn, VIn> record) {
      RecordMetadata meta = context.recordMetadata().orElse(null);
      if (meta == null) {
        inner.process(record);
        return;
      }
      String key = record.key() instanceof String s ? s : null;
      ReplayWindow.Decision d =
          window.decide(meta.topic(), meta.partition(), meta.offset(), record.timestamp(), key);
      if (d != ReplayWindow.Decision.SKIP) {
        inner.process(record);
      }
      window.count(meta.topic(), meta.partition(), meta.offset(), d);
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /** Drops what intake forwards for records stamped before the window (context uploads). */
  private static final class DropBeforeWindow<KIn, VIn, KOut, VOut>
      implements Processor<KIn, VIn, KOut, VOut> {
    private final Processor<KIn, VIn, KOut, VOut> inner;
    private final ReplayWindow window;

    DropBeforeWindow(Processor<KIn, VIn, KOut, VOut> inner, ReplayWindow window) {
      this.inner = inner;
      this.window = window;
    }

    @Override
    public void init(ProcessorContext<KOut, VOut> context) {
      inner.init(context);
    }

    @Override
    public void process(Record<KIn, VIn> record) {
      // Intake stamps its decisions with the input record's timestamp.
      if (record.timestamp() >= window.fromMs()) {
        inner.process(record);
      }
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
