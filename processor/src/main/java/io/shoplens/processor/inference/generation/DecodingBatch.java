package io.shoplens.processor.inference.generation;

import java.util.List;

/**
 * The batch the engine's worker decodes: requests join it, it runs one decoder step at a time, and
 * each request leaves it with its result as soon as it is done. Both {@link RunningBatch}
 * (decoder-only models) and {@link EncoderDecoderBatch} (T5) let requests join between any two
 * steps. The engine drives both the same way: it asks {@link #fits} before {@link #join}, and calls
 * {@link #step} while the batch is not {@link #isEmpty}.
 *
 * <p>Not thread-safe: one worker thread drives it.
 *
 * @param <T> what the caller tags each request with, handed back when it finishes
 */
public interface DecodingBatch<T> extends AutoCloseable {

  /** Whether no request is decoding. */
  boolean isEmpty();

  /** Rows held by live requests (a beam or a returned sample counts as a row). */
  int busyRows();

  /** Bytes of KV the batch holds now. */
  long kvBytesInUse();

  /** Bytes of KV of one token of one row. */
  long kvBytesPerToken();

  /** The KV budget in token rows. */
  long budgetTokens();

  /** Whether a request could ever run: alone, its rows and tokens fit the budget. */
  boolean canEverFit(RunningBatch.Input<T> input);

  /** Whether these requests can join now, with every live request running to its end. */
  boolean fits(List<RunningBatch.Input<T>> joiners);

  /**
   * Starts the joiners (the caller checked {@link #fits}): prefills or encodes them and picks their
   * first tokens.
   *
   * @return joiners that finished with their first token
   */
  List<RunningBatch.Finished<T>> join(List<RunningBatch.Input<T>> joiners);

  /**
   * One decoder step over every live row.
   *
   * @return requests that finished at this step
   */
  List<RunningBatch.Finished<T>> step();

  /** The tags of the requests decoding now. */
  List<T> tags();

  /** Drops every request (after a failure: their state is unknown); the batch is empty again. */
  void clear();

  @Override
  void close();
}
