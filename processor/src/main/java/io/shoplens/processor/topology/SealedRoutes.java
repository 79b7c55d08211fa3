package io.shoplens.processor.topology;

import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.BranchedKStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;

/**
 * Routing on a sealed output type, the one way ShopLens' topologies split a processor's outputs:
 * one branch per case, unwrapped to what the case carries, then sent on. Every case gets its own
 * branch and the split ends with {@code noDefaultBranch()}, so that a new case that nobody routes
 * is dropped visibly in review rather than sent somewhere by default.
 */
public final class SealedRoutes {
  private SealedRoutes() {}

  /**
   * Adds a branch for one case {@code type} of a sealed value type: its records, unwrapped by
   * {@code value} (a processor named {@code name + "-value"}), go to {@code then}.
   */
  public static <T, C extends T, V> void branch(
      BranchedKStream<String, T> split,
      Class<C> type,
      Function<C, V> value,
      String name,
      Consumer<KStream<String, V>> then) {
    split.branch(
        (key, out) -> type.isInstance(out),
        Branched.withConsumer(
            s ->
                then.accept(
                    s.mapValues(out -> value.apply(type.cast(out)), Named.as(name + "-value"))),
            name));
  }

  /** Sends a branch to {@code topic} with its serdes. */
  public static <V> Consumer<KStream<String, V>> to(Topic<String, V> topic) {
    return s -> s.to(topic.name(), topic.produced());
  }
}
