package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.t5.T5Graphs;
import io.shoplens.processor.inference.t5.T5Manifest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The decoding batch of an encoder-decoder model (BLIP-2 T5, docs/model-bundle.md "BLIP-2 Flan-T5
 * bundles"): requests join it between any two decoder steps and leave it as soon as they are done,
 * as in {@link RunningBatch}; each request picks its tokens with the same {@link SequenceGroup}s
 * (greedy, beam search, seeded sampling) as decoder-only models.
 *
 * <p><b>Joining.</b> {@link #join} encodes the joining requests together (right-padded among
 * themselves, their query embeddings in front of their prompts, as Hugging Face's {@code
 * generate()} batches them), runs their first decoder step from {@code decoder_start_token_id} as
 * their own graph call beside the running rows, picks each one's first token, and appends their
 * rows to the batch. Each row carries its own cross-attention KV (the encoder graph's output for
 * its request, repeated for each of its beams or samples) and its own decoder self-attention KV:
 *
 * <ul>
 *   <li>the cross KV and the encoder mask are <b>left-aligned</b> in a window as wide as the
 *       longest encoder input of the live rows; a shorter row's columns after its own are padding,
 *       masked out ({@code encoder_attention_mask}); cross-attention has no position bias, so where
 *       a row's encoder columns sit does not matter;
 *   <li>the self KV and the decoder mask are <b>right-aligned</b>: every row's latest token is in
 *       the last column, and the columns before a row's first decoder token are padding, masked out
 *       ({@code attention_mask}). T5's decoder computes its relative position bias from column
 *       positions, and with left padding a column difference is the distance between two tokens, so
 *       a row's logits do not depend on how far the others have come.
 * </ul>
 *
 * <p><b>Leaving.</b> A request leaves as soon as its own group is done: its rows, their cross KV
 * and their self KV are dropped, and columns that are padding for every row still live (decoder
 * columns before the oldest live row's start, encoder columns after the longest live input) are
 * cut.
 *
 * <p><b>Independence.</b> A row sees only its own columns (both masks), its decoder positions are
 * its own token distances, its cross KV is its own request's, and its tokens are picked by its own
 * group with its own seeded random source: what else is in the batch, and when a request joined,
 * never changes what it generates.
 *
 * <p><b>No image-prefix reuse.</b> T5's encoder is bidirectional: the query positions attend to the
 * prompt, so no part of the encoder output or cross KV can be shared between prompts on the same
 * image. The engine's vision cache (query embeddings per image) still applies.
 *
 * <p><b>KV budget.</b> A row holds its cross KV (one column per encoder position of the window) and
 * its decoder's self KV (one column per decoder position of the window); {@link #fits} admits
 * joiners only if, with every live and joining request generating up to its {@code maxNewTokens},
 * rows x (encoder window + decoder window) stays within the budget.
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
  private final List<BatchMember<T>> members = new ArrayList<>();
  // The live rows, each member's rows contiguous from its group's firstRow.
  private Rows live;

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
    this.live = new Rows();
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
    return live.count;
  }

  @Override
  public long kvBytesInUse() {
    return (long) live.count * (live.encoder.length + live.decoder.length) * bytesPerToken;
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

  /**
   * Whether these requests can join now: within {@code maxRows} (one request wider than that still
   * runs, alone), and with every live and joining request generating up to its {@code
   * maxNewTokens}, rows x (encoder window + decoder window) within the budget.
   */
  @Override
  public boolean fits(List<RunningBatch.Input<T>> joiners) {
    long rows = live.count;
    int encoder = live.encoder.length;
    int decoder = 0;
    for (BatchMember<T> m : members) {
      // A live row's window grows by one column per step until its last token.
      decoder = Math.max(decoder, live.decoder.length + m.remaining());
    }
    // A joiner's first token lands in the window's last column (column 0 of an empty batch).
    int joinColumn = Math.max(live.decoder.length, 1);
    long joinRows = 0;
    for (RunningBatch.Input<T> in : joiners) {
      joinRows += in.rows();
      encoder = Math.max(encoder, in.promptIds().length);
      decoder = Math.max(decoder, joinColumn + in.options().maxNewTokens() - 1);
    }
    if (rows + joinRows > maxRows && (rows > 0 || joiners.size() > 1)) {
      return false;
    }
    return (rows + joinRows) * (encoder + decoder) <= budgetTokens;
  }

  /**
   * Encodes the joiners together (right-padded, their query embeddings in front of their prompts),
   * runs their first decoder step from {@code decoder_start_token_id} beside the running rows,
   * picks their first tokens and appends the rows of those not finished yet. The caller checked
   * {@link #fits}. If a graph fails, the running rows are left as they were.
   */
  @Override
  public List<RunningBatch.Finished<T>> join(List<RunningBatch.Input<T>> joiners) {
    if (joiners.isEmpty()) {
      return List.of();
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
    Rows joining = new Rows();
    joining.count = source.length;
    joining.encoder =
        new Window(encoded.length(), encoded.mask(), encoded.crossKv())
            .keep(source, 0, encoded.length());
    joining.nextTokens = new long[source.length];
    Arrays.fill(joining.nextTokens, manifest.tokens().decoderStartTokenId());
    float[] logits = joining.step();
    long prefillEnd = System.nanoTime();
    List<BatchMember<T>> joined = new ArrayList<>();
    for (int i = 0; i < joiners.size(); i++) {
      joined.add(
          new BatchMember<>(joiners.get(i).tag(), groups.get(i), prefillEnd - start, prefillEnd));
    }
    List<RunningBatch.Finished<T>> done = pick(joining, joined, logits, prefillEnd);
    int offset = live.count;
    for (BatchMember<T> m : joined) {
      m.group.moveTo(m.group.firstRow + offset);
    }
    live.append(joining);
    members.addAll(joined);
    return done;
  }

  @Override
  public List<RunningBatch.Finished<T>> step() {
    if (members.isEmpty()) {
      return List.of();
    }
    float[] logits = live.step();
    return pick(live, members, logits, System.nanoTime());
  }

  @Override
  public List<T> tags() {
    return members.stream().map(m -> m.tag).toList();
  }

  @Override
  public void clear() {
    members.clear();
    live = new Rows();
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

  /**
   * Lets each member pick its rows' next tokens, then drops the rows of those that finished from
   * {@code rows} and from {@code group}.
   *
   * @return the members that finished
   */
  private List<RunningBatch.Finished<T>> pick(
      Rows rows, List<BatchMember<T>> group, float[] logits, long now) {
    int[] sourceRows = new int[rows.count];
    long[] next = new long[rows.count];
    boolean moved = false;
    for (int r = 0; r < rows.count; r++) {
      sourceRows[r] = r;
    }
    for (BatchMember<T> m : group) {
      m.group.step(logits, vocab, next, sourceRows);
    }
    for (int r = 0; r < rows.count; r++) {
      moved |= sourceRows[r] != r;
    }
    if (moved) {
      // Beams re-ranked: a row continues another row's decoder KV (always one of its own group's,
      // whose cross KV and decoder mask are the same).
      rows.reorderDecoder(sourceRows);
    }
    rows.nextTokens = next;
    List<RunningBatch.Finished<T>> done = new ArrayList<>();
    List<BatchMember<T>> still = new ArrayList<>();
    List<Integer> keep = new ArrayList<>();
    for (BatchMember<T> m : group) {
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
    group.clear();
    group.addAll(still);
    if (keep.size() < rows.count) {
      rows.keep(keep.stream().mapToInt(Integer::intValue).toArray());
    }
    return done;
  }

  /**
   * The tensors of a set of rows, row {@code r} of each belonging to the same row: the encoder
   * window (mask and cross KV, left-aligned), the decoder window (mask and self KV, right-aligned),
   * and the token each row feeds next.
   */
  private final class Rows {
    int count;
    Window encoder = new Window(0, new long[0], emptyKv());
    Window decoder = new Window(0, new long[0], emptyKv());
    long[] nextTokens = new long[0];

    /** Feeds every row its next token; returns the logits, [count, V]. */
    float[] step() {
      int past = decoder.length;
      int total = past + 1;
      long[] stepMask = new long[count * total];
      for (int r = 0; r < count; r++) {
        System.arraycopy(decoder.mask, r * past, stepMask, r * total, past);
        stepMask[r * total + past] = 1L;
      }
      float[] embeds = graphs.embed(nextTokens, count, 1);
      T5Graphs.Step s =
          graphs.decode(
              embeds,
              stepMask,
              past,
              decoder.kv,
              new T5Graphs.Encoded(count, encoder.length, encoder.mask, encoder.kv));
      decoder = new Window(total, stepMask, s.selfKv());
      return s.logits();
    }

    /** Row r's decoder KV and mask become row source[r]'s (beams re-ranked within a group). */
    void reorderDecoder(int[] source) {
      decoder = decoder.keep(source, 0, decoder.length);
    }

    /**
     * Keeps rows {@code kept}, in that order, and cuts the columns that are padding for all of
     * them: decoder columns before the earliest start, encoder columns after the longest input.
     */
    void keep(int[] kept) {
      int past = decoder.length;
      int encoderLength = encoder.length;
      int leading = past;
      int used = 0;
      for (int r : kept) {
        int t = 0;
        while (t < past && decoder.mask[r * past + t] == 0) {
          t++;
        }
        leading = Math.min(leading, t);
        for (int e = encoderLength - 1; e >= used; e--) {
          if (encoder.mask[r * encoderLength + e] != 0) {
            used = e + 1;
            break;
          }
        }
      }
      if (kept.length == 0) {
        leading = past;
      }
      decoder = decoder.keep(kept, leading, past - leading);
      encoder = encoder.keep(kept, 0, used);
      long[] tokens = new long[kept.length];
      for (int i = 0; i < kept.length; i++) {
        tokens[i] = nextTokens[kept[i]];
      }
      nextTokens = tokens;
      count = kept.length;
    }

    /**
     * Appends {@code other}'s rows after these, widening both windows to the wider of the two: the
     * decoder columns padded on the left, the encoder columns on the right.
     */
    void append(Rows other) {
      if (other.count == 0) {
        return;
      }
      decoder = decoder.append(count, other.decoder, other.count, true);
      encoder = encoder.append(count, other.encoder, other.count, false);
      long[] tokens = Arrays.copyOf(nextTokens, count + other.count);
      System.arraycopy(other.nextTokens, 0, tokens, count, other.count);
      nextTokens = tokens;
      count += other.count;
    }
  }

  /**
   * A window of columns of a set of rows: the mask, [rows, length], and the 2 L KV tensors that go
   * with it, [rows, N, length, D] each.
   */
  private final class Window {
    final int length;
    final long[] mask;
    final float[][] kv;

    Window(int length, long[] mask, float[][] kv) {
      this.length = length;
      this.mask = mask;
      this.kv = kv;
    }

    /** Rows {@code rows} of this window, in that order, its columns [from, from + width) only. */
    Window keep(int[] rows, int from, int width) {
      return new Window(
          width,
          columns(mask, rows, length, width, from, 0, width),
          gather(kv, rows, length, width, from, 0, width));
    }

    /**
     * These {@code count} rows followed by {@code other}'s {@code otherCount}, in a window as wide
     * as the wider of the two, each row's columns on the right ({@code rightAligned}) or the left.
     */
    Window append(int count, Window other, int otherCount, boolean rightAligned) {
      int newLength = Math.max(length, other.length);
      int to = rightAligned ? newLength - length : 0;
      int otherTo = rightAligned ? newLength - other.length : 0;
      int rows = count + otherCount;
      T5Manifest.Text t = manifest.text();
      float[][] newKv = new float[kv.length][];
      for (int j = 0; j < kv.length; j++) {
        newKv[j] = new float[rows * t.numHeads() * newLength * t.headDim()];
        copyRows(kv[j], count, length, newKv[j], 0, newLength, 0, to, length);
        copyRows(
            other.kv[j],
            otherCount,
            other.length,
            newKv[j],
            count,
            newLength,
            0,
            otherTo,
            other.length);
      }
      long[] newMask = new long[rows * newLength];
      copyMaskRows(mask, count, length, newMask, 0, newLength, to);
      copyMaskRows(other.mask, otherCount, other.length, newMask, count, newLength, otherTo);
      return new Window(newLength, newMask, newKv);
    }
  }

  private float[][] emptyKv() {
    float[][] kv = new float[2 * manifest.text().numLayers()][];
    Arrays.fill(kv, new float[0]);
    return kv;
  }

  /**
   * Row {@code i} of each result is row {@code source[i]} of the input; tensors [B, N, length, D]
   * become [source.length, N, newLength, D] with the input's columns [from, from + width) at [to,
   * to + width) and zeros elsewhere.
   */
  private float[][] gather(
      float[][] tensors, int[] source, int length, int newLength, int from, int to, int width) {
    T5Manifest.Text t = manifest.text();
    float[][] out = new float[tensors.length][];
    for (int j = 0; j < tensors.length; j++) {
      out[j] = new float[source.length * t.numHeads() * newLength * t.headDim()];
      for (int i = 0; i < source.length; i++) {
        copyRow(tensors[j], source[i], length, out[j], i, newLength, from, to, width);
      }
    }
    return out;
  }

  /** Rows 0..count of {@code in} to rows at..at + count of {@code out}, see {@link #copyRow}. */
  private void copyRows(
      float[] in,
      int count,
      int length,
      float[] out,
      int at,
      int newLength,
      int from,
      int to,
      int width) {
    for (int r = 0; r < count; r++) {
      copyRow(in, r, length, out, at + r, newLength, from, to, width);
    }
  }

  /** Columns [from, from + width) of row {@code row} of a [B, N, length, D] tensor to [to, ...). */
  private void copyRow(
      float[] in,
      int row,
      int length,
      float[] out,
      int outRow,
      int newLength,
      int from,
      int to,
      int width) {
    int heads = manifest.text().numHeads();
    int d = manifest.text().headDim();
    for (int h = 0; h < heads; h++) {
      System.arraycopy(
          in,
          ((row * heads + h) * length + from) * d,
          out,
          ((outRow * heads + h) * newLength + to) * d,
          width * d);
    }
  }

  /**
   * Row {@code i} of the result is row {@code source[i]} of {@code mask} [rows, length], its
   * columns [from, from + width) at [to, to + width) of {@code newLength}, zeros (masked)
   * elsewhere.
   */
  private static long[] columns(
      long[] mask, int[] source, int length, int newLength, int from, int to, int width) {
    long[] out = new long[source.length * newLength];
    for (int i = 0; i < source.length; i++) {
      System.arraycopy(mask, source[i] * length + from, out, i * newLength + to, width);
    }
    return out;
  }

  /** Rows 0..count of a [count, length] mask to rows at.. of [*, newLength], shifted by to. */
  private static void copyMaskRows(
      long[] in, int count, int length, long[] out, int at, int newLength, int to) {
    for (int r = 0; r < count; r++) {
      System.arraycopy(in, r * length, out, (at + r) * newLength + to, length);
    }
  }
}
