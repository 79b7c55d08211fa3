package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.t5.T5Graphs;
import io.shoplens.processor.inference.t5.T5Manifest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The decoding batch of an encoder-decoder model (BLIP-2 T5, docs/model-bundle.md "BLIP-2 Flan-T5
 * bundles"): requests are encoded together when they join, then decoded one step at a time from
 * {@code decoder_start_token_id}, each request picking its tokens with the same {@link
 * SequenceGroup}s (greedy, beam search, seeded sampling) as decoder-only models.
 *
 * <p><b>Static batching.</b> Requests join only an empty batch: a batch is encoded whole and its
 * decoders all start at the same step, as Hugging Face's {@code generate()} runs them. Rows joining
 * a running T5 batch would need its decoder KV left-padded per row and the cross KV padded to the
 * longest encoder input, a window this class does not manage yet; the engine's interface is the
 * same either way, only a request's wait differs (it waits for the batch in front of it to end, not
 * one step). Requests still <b>leave</b> as soon as they are done: their rows are dropped from the
 * self and cross KV (each row attends only to itself, and every row is at the same decoder step, so
 * the others' logits do not change) and their results are returned at once.
 *
 * <p><b>No image-prefix reuse.</b> T5's encoder is bidirectional: the query positions attend to the
 * prompt, so no part of the encoder output or cross KV can be shared between prompts on the same
 * image. The engine's vision cache (query embeddings per image) still applies.
 *
 * <p><b>KV budget.</b> A row holds its cross KV (one column per encoder position) and its decoder's
 * self KV (one column per generated token); {@link #fits} admits a batch only if rows x (longest
 * encoder input + longest {@code maxNewTokens}) stays within the budget.
 *
 * @param <T> what the caller tags each request with, handed back when it finishes
 */
public final class EncoderDecoderBatch<T> implements DecodingBatch<T> {
  private final T5Graphs graphs;
  private final T5Manifest manifest;
  private final int maxRows;
  private final long budgetTokens;
  private final long bytesPerToken;
  private final int vocab;
  private final long pad;
  private final List<Integer> stops;
  private final List<Member<T>> members = new ArrayList<>();

  // The live rows, each member's rows contiguous from its group's firstRow.
  private int rows;
  private int encoderLength;
  private long[] encoderMask = new long[0]; // [rows, encoderLength]
  private float[][] crossKv = new float[0][]; // 2 L x [rows, N, encoderLength, D]
  private float[][] selfKv = new float[0][]; // 2 L x [rows, N, past, D]
  private int past;
  private long[] nextTokens = new long[0];

  private static final class Member<T> {
    final T tag;
    final SequenceGroup group;
    final long prefillNanos;
    final long prefillEnd;

    Member(T tag, SequenceGroup group, long prefillNanos, long prefillEnd) {
      this.tag = tag;
      this.group = group;
      this.prefillNanos = prefillNanos;
      this.prefillEnd = prefillEnd;
    }

    RunningBatch.Finished<T> finished(long now) {
      return new RunningBatch.Finished<>(tag, group.results(), prefillNanos, now - prefillEnd);
    }
  }

  /**
   * An empty batch.
   *
   * @param graphs the model's graphs
   * @param maxRows most rows decoded together (a beam counts as a row); one request wider than this
   *     still runs, alone
   * @param budgetTokens most token rows (rows x (encoder + decoder columns)) the batch may hold
   */
  public EncoderDecoderBatch(T5Graphs graphs, int maxRows, long budgetTokens) {
    this.graphs = graphs;
    this.manifest = graphs.manifest();
    this.maxRows = maxRows;
    this.budgetTokens = budgetTokens;
    this.bytesPerToken = bytesPerToken(manifest.text());
    this.vocab = manifest.text().vocabSize();
    this.pad = manifest.tokens().padTokenId();
    this.stops = manifest.tokens().stopTokenIds();
  }

  /** Bytes of KV one token of one row holds: keys and values of every decoder layer, float32. */
  public static long bytesPerToken(T5Manifest.Text t) {
    return 2L * t.numLayers() * t.numHeads() * t.headDim() * Float.BYTES;
  }

  @Override
  public boolean isEmpty() {
    return members.isEmpty();
  }

  @Override
  public int busyRows() {
    return rows;
  }

  @Override
  public long kvBytesInUse() {
    return (long) rows * (encoderLength + past) * bytesPerToken;
  }

  @Override
  public long kvBytesPerToken() {
    return bytesPerToken;
  }

  @Override
  public long budgetTokens() {
    return budgetTokens;
  }

  @Override
  public boolean canEverFit(RunningBatch.Input<T> input) {
    return input.rows() * input.tokens() <= budgetTokens;
  }

  /** Only into an empty batch (see the class comment), within {@code maxRows} and the budget. */
  @Override
  public boolean fits(List<RunningBatch.Input<T>> joiners) {
    if (!isEmpty()) {
      return false;
    }
    long joinRows = 0;
    int length = 0;
    int remaining = 0;
    for (RunningBatch.Input<T> in : joiners) {
      joinRows += in.rows();
      length = Math.max(length, in.promptIds().length);
      remaining = Math.max(remaining, in.options().maxNewTokens());
    }
    if (joiners.size() > 1 && joinRows > maxRows) {
      return false;
    }
    return joinRows * (length + remaining) <= budgetTokens;
  }

  /**
   * Encodes the joiners together (right-padded, their query embeddings in front of their prompts),
   * then runs the first decoder step from {@code decoder_start_token_id}. The caller checked {@link
   * #fits}.
   */
  @Override
  public List<RunningBatch.Finished<T>> join(List<RunningBatch.Input<T>> joiners) {
    if (joiners.isEmpty()) {
      return List.of();
    }
    if (!isEmpty()) {
      throw new IllegalStateException("a T5 batch is joined only when empty");
    }
    long start = System.nanoTime();
    T5Graphs.Encoded encoded = encode(joiners);
    List<SequenceGroup> groups = new ArrayList<>();
    List<Integer> rowSource = new ArrayList<>();
    // What precedes the generated ids in Hugging Face's decoder input_ids, and what its
    // repetition penalty counts: the decoder start token alone (the prompt is the encoder's).
    long[] decoderPrompt = {manifest.tokens().decoderStartTokenId()};
    for (int i = 0; i < joiners.size(); i++) {
      RunningBatch.Input<T> in = joiners.get(i);
      SequenceGroup group =
          SequenceGroup.create(
              rowSource.size(), in.options(), decoderPrompt, stops, pad, in.seed());
      groups.add(group);
      for (int r = 0; r < group.rows; r++) {
        rowSource.add(i); // every beam or sample of a request shares its encoder row
      }
    }
    int[] source = rowSource.stream().mapToInt(Integer::intValue).toArray();
    rows = source.length;
    encoderLength = encoded.length();
    encoderMask = repeat(encoded.mask(), source, encoderLength);
    crossKv = reorderRows(encoded.crossKv(), source, encoderLength);
    selfKv = new float[crossKv.length][];
    Arrays.fill(selfKv, new float[0]);
    past = 0;
    nextTokens = new long[rows];
    Arrays.fill(nextTokens, manifest.tokens().decoderStartTokenId());
    float[] logits = decodeStep();
    long prefillEnd = System.nanoTime();
    for (int i = 0; i < joiners.size(); i++) {
      members.add(
          new Member<>(joiners.get(i).tag(), groups.get(i), prefillEnd - start, prefillEnd));
    }
    return pick(logits, prefillEnd);
  }

  @Override
  public List<RunningBatch.Finished<T>> step() {
    if (members.isEmpty()) {
      return List.of();
    }
    float[] logits = decodeStep();
    return pick(logits, System.nanoTime());
  }

  @Override
  public List<T> tags() {
    List<T> tags = new ArrayList<>();
    for (Member<T> m : members) {
      tags.add(m.tag);
    }
    return tags;
  }

  @Override
  public void clear() {
    members.clear();
    rows = 0;
    encoderLength = 0;
    encoderMask = new long[0];
    crossKv = new float[0][];
    selfKv = new float[0][];
    past = 0;
    nextTokens = new long[0];
  }

  @Override
  public void close() {
    clear(); // the KV lives in Java arrays: nothing native to release
  }

  /** One request per encoder row: ids right-padded, query embeddings over the image tokens. */
  private T5Graphs.Encoded encode(List<RunningBatch.Input<T>> joiners) {
    int n = joiners.size();
    int q = manifest.numQueryTokens();
    int hidden = manifest.text().hiddenSize();
    int length = 0;
    for (RunningBatch.Input<T> in : joiners) {
      length = Math.max(length, in.promptIds().length);
    }
    long[] ids = new long[n * length];
    long[] mask = new long[n * length];
    Arrays.fill(ids, pad);
    for (int i = 0; i < n; i++) {
      long[] prompt = joiners.get(i).promptIds();
      System.arraycopy(prompt, 0, ids, i * length, prompt.length);
      Arrays.fill(mask, i * length, i * length + prompt.length, 1L);
    }
    float[] embeds = graphs.embed(ids, n, length);
    // Each prompt starts with its Q image tokens (checked when the request was prepared), so
    // Hugging Face's masked_scatter of the query embeddings is a copy over the first Q positions.
    for (int i = 0; i < n; i++) {
      float[] query = joiners.get(i).queryEmbeds();
      System.arraycopy(query, 0, embeds, i * length * hidden, q * hidden);
    }
    return graphs.encode(embeds, mask, n, length);
  }

  /** Feeds every row its next token; the decoders all start together, so no decoder padding. */
  private float[] decodeStep() {
    long[] decoderMask = new long[rows * (past + 1)];
    Arrays.fill(decoderMask, 1L);
    float[] embeds = graphs.embed(nextTokens, rows, 1);
    T5Graphs.Step s =
        graphs.decode(
            embeds,
            decoderMask,
            past,
            selfKv,
            new T5Graphs.Encoded(rows, encoderLength, encoderMask, crossKv));
    selfKv = s.selfKv();
    past++;
    return s.logits();
  }

  /** Lets every request pick its rows' next tokens, then drops the rows of those that finished. */
  private List<RunningBatch.Finished<T>> pick(float[] logits, long now) {
    int[] sourceRows = new int[rows];
    long[] next = new long[rows];
    boolean moved = false;
    for (int r = 0; r < rows; r++) {
      sourceRows[r] = r;
    }
    for (Member<T> m : members) {
      m.group.step(logits, vocab, next, sourceRows);
    }
    for (int r = 0; r < rows; r++) {
      moved |= sourceRows[r] != r;
    }
    if (moved) {
      // Beams re-ranked: a row continues another row's decoder KV (always one of its own group's,
      // whose cross KV is the same).
      selfKv = reorderRows(selfKv, sourceRows, past);
    }
    nextTokens = next;
    List<RunningBatch.Finished<T>> done = new ArrayList<>();
    List<Member<T>> still = new ArrayList<>();
    List<Integer> keep = new ArrayList<>();
    for (Member<T> m : members) {
      if (m.group.done()) {
        m.group.doneAtNanos = now;
        done.add(m.finished(now));
      } else {
        int at = keep.size();
        for (int j = 0; j < m.group.rows; j++) {
          keep.add(m.group.firstRow + j);
        }
        m.group.moveTo(at);
        still.add(m);
      }
    }
    members.clear();
    members.addAll(still);
    if (still.isEmpty()) {
      clear();
    } else if (keep.size() < rows) {
      int[] kept = keep.stream().mapToInt(Integer::intValue).toArray();
      selfKv = reorderRows(selfKv, kept, past);
      crossKv = reorderRows(crossKv, kept, encoderLength);
      encoderMask = repeat(encoderMask, kept, encoderLength);
      long[] tokens = new long[kept.length];
      for (int i = 0; i < kept.length; i++) {
        tokens[i] = nextTokens[kept[i]];
      }
      nextTokens = tokens;
      rows = kept.length;
    }
    return done;
  }

  /** Row {@code i} of the result is row {@code source[i]} of {@code values}, [rows, length]. */
  private static long[] repeat(long[] values, int[] source, int length) {
    long[] out = new long[source.length * length];
    for (int i = 0; i < source.length; i++) {
      System.arraycopy(values, source[i] * length, out, i * length, length);
    }
    return out;
  }

  /** Row {@code i} of each result is row {@code source[i]} of the input, tensors [B, N, len, D]. */
  private float[][] reorderRows(float[][] tensors, int[] source, int length) {
    T5Manifest.Text t = manifest.text();
    int rowSize = t.numHeads() * length * t.headDim();
    float[][] out = new float[tensors.length][];
    for (int j = 0; j < tensors.length; j++) {
      out[j] = new float[source.length * rowSize];
      for (int i = 0; i < source.length; i++) {
        System.arraycopy(tensors[j], source[i] * rowSize, out[j], i * rowSize, rowSize);
      }
    }
    return out;
  }
}
