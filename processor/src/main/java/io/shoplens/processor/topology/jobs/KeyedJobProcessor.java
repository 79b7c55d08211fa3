package io.shoplens.processor.topology.jobs;

import io.shoplens.events.DeadLetter;
import io.shoplens.events.ProcessingStage;
import io.shoplens.processor.topology.Origin;
import io.shoplens.processor.topology.ShopLensTopologyConfig;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * A processor whose input records each become a job keyed by the record key (a catalog product by
 * its {@code productId}, a search by its {@code requestId}), read as bytes so that a value that
 * cannot be read is dead-lettered as it was. What every such processor does is written here: a
 * record without a key is refused at once (stage VALIDATE, {@code NullKey}); a value is read and
 * refused the one way ({@link #read}); the jobs run through {@link AsyncJobs}, of which the
 * subclass is the {@link JobWork}; every output carries the lineage of its job's input record.
 *
 * @param <J> the job
 * @param <R> what a finished job yields
 * @param <O> the processor's output
 */
public abstract class KeyedJobProcessor<J extends AsyncJob<J>, R, O>
    implements Processor<String, byte[], String, O>, JobWork<J, R> {
  /** A job's canonical constructor: its id (the record key), input record and failed tries. */
  @FunctionalInterface
  public interface NewJob<J> {
    J of(String id, Origin origin, int attempts);
  }

  /**
   * What a keyed-job processor is: the name of its records, how a job and a dead-letter output are
   * made, and where its jobs are kept.
   *
   * @param what names a record in the dead letter of one without a key ({@code "search request"})
   * @param newJob makes the job of a record
   * @param deadLetter makes the output that carries a dead letter
   * @param store the changelogged store of the jobs in flight
   * @param maxInFlight the processor's own bound on engine requests in flight, per task
   */
  public record Spec<J, O>(
      String what,
      NewJob<J> newJob,
      Function<DeadLetter, O> deadLetter,
      String store,
      int maxInFlight) {}

  /** The subclass's jobs; it accepts (and may cancel) them, this class initialises and closes. */
  protected final AsyncJobs<J, R> jobs;

  private final Spec<J, O> spec;
  private final String replayRunId;
  private ProcessorContext<String, O> context;

  /**
   * Its jobs never block the stream thread: a record that finds no room waits in the store.
   *
   * @param config the pacing of jobs, and the replay run id the outputs' lineage carries
   */
  protected KeyedJobProcessor(Spec<J, O> spec, ShopLensTopologyConfig config) {
    this.spec = spec;
    this.replayRunId = config.replayRunId();
    // AsyncJobs only keeps its JobWork here; it calls it from init on, once this is constructed.
    this.jobs =
        new AsyncJobs<>(
            spec.store(),
            AsyncJobs.Settings.of(config, false),
            new InFlightLimiter(spec.maxInFlight()),
            this);
  }

  /**
   * Takes a record with a key: accepts the job made of it, or forwards what it comes to at once.
   */
  protected abstract void handle(J job, Record<String, byte[]> record);

  /** Opens the stores the subclass reads; called before the jobs left in flight start again. */
  protected void openStores(ProcessorContext<String, O> context) {}

  @Override
  public final void init(ProcessorContext<String, O> context) {
    this.context = context;
    openStores(context);
    jobs.init(context);
  }

  @Override
  public final void process(Record<String, byte[]> record) {
    Origin origin = Origin.of(context, record);
    J job = spec.newJob().of(record.key(), origin, 0);
    if (record.key() == null) {
      refuse(job, ProcessingStage.VALIDATE, "NullKey", spec.what() + " has no key");
      return;
    }
    handle(job, record);
  }

  @Override
  public void close() {
    jobs.close();
  }

  /**
   * The record's value, or null after forwarding its dead letter: a value that does not deserialize
   * at stage DESERIALIZE, one whose id is not the record key at stage VALIDATE ({@code
   * KeyMismatch}).
   *
   * @param record a record with a non-null key and value
   * @param idName the id's field name, for the message ({@code productId})
   * @param id the id inside the value, which must equal the key
   */
  protected final <T> T read(
      Deserializer<T> deserializer,
      J job,
      Record<String, byte[]> record,
      String idName,
      Function<T, String> id) {
    T value;
    try {
      value = deserializer.deserialize(job.origin().topic(), record.headers(), record.value());
    } catch (RuntimeException e) {
      refuse(job, DeadLetters.of(job.origin(), ProcessingStage.DESERIALIZE, e, 1, now()));
      return null;
    }
    if (!record.key().equals(id.apply(value))) {
      refuse(
          job,
          ProcessingStage.VALIDATE,
          "KeyMismatch",
          "record key " + record.key() + " differs from " + idName + " " + id.apply(value));
      return null;
    }
    return value;
  }

  /** Forwards the dead letter of {@code job}'s record, refused at once (its first attempt). */
  protected final void refuse(J job, ProcessingStage stage, String errorClass, String message) {
    refuse(job, DeadLetters.of(job.origin(), stage, errorClass, message, 1, now()));
  }

  /** Forwards {@code letter} for {@code job}. */
  protected final void refuse(J job, DeadLetter letter) {
    forward(job, spec.deadLetter().apply(letter), null);
  }

  /** Forwards {@code output} keyed by the job's id, with the lineage of its input record. */
  protected final void forward(J job, O output, String modelVersion) {
    context.forward(job.origin().output(job.id(), output, modelVersion, replayRunId));
  }

  /** The stream thread's wall-clock time. */
  protected final long now() {
    return context.currentSystemTimeMs();
  }
}
