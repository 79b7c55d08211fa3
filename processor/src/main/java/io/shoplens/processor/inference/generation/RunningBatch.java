package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import io.shoplens.processor.inference.onnx.KvCache;
import io.shoplens.processor.inference.text.PromptBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoding batch that requests join and leave between decoder steps (iteration-level scheduling),
 * over one KV cache with a bounded number of rows and a bounded KV budget.
 *
 * <p><b>Joining.</b> {@link #join} prefills the joining requests together, as their own graph call
 * beside the running rows (left-padded among themselves after their image tokens, exactly as a
 * static batch of them would be), picks each one's first token from that prefill, and copies their
 * KV rows into the running cache: into rows that finished requests left free, or appended. Rows are
 * right-aligned in one window of {@code length} columns; the columns before a row's own first token
 * are padding, masked out. A joiner longer than the window widens it (every row shifts).
 *
 * <p><b>Leaving.</b> A request leaves as soon as its own group is done: its rows become free and
 * are no longer decoded for it (a free row is still computed, with the pad token, until a joiner
 * takes it or it is dropped from the end of the batch); when free rows outnumber live ones, or
 * leading columns are padding for every live row, the cache is compacted.
 *
 * <p><b>Independence.</b> A row sees only its own columns (the mask), its positions are its own
 * count of real tokens, and its tokens are picked by its own group with its own seeded random
 * source: what else is in the batch never changes what a request generates.
 *
 * <p><b>KV budget.</b> {@link #fits} admits a joiner only if, with every live request running to
 * its {@code maxNewTokens}, the window (rows x columns, free rows included) stays within {@code
 * budgetTokens} token rows: the cache never outgrows the budget, so a full batch makes requests
 * wait instead of running out of memory. The cache's storage is twice the window (the past and the
 * present alternate), allocated as the window grows.
 *
 * @param <T> what the caller tags each request with, handed back when it finishes
 */
public final class RunningBatch<T> implements DecodingBatch<T> {
  private final Blip2Graphs graphs;
  private final ModelManifest manifest;
  private final int maxRows;
  private final long budgetTokens;
  private final int vocab;
  private final long pad;
  private final List<Integer> stops;
  private final KvCache cache;
  private final PrefixStore prefixes;
  private final JoinPrefill prefiller;
  private final List<BatchMember<T>> members = new ArrayList<>();
  // Per row of the cache: its request, or null when the row is free.
  private final List<BatchMember<T>> rowOwner = new ArrayList<>();
  private long[] mask = new long[0]; // [rows, length]
  private long[] ones = new long[0]; // real tokens per row (positions)
  private long[] nextTokens = new long[0]; // per row: what the next step feeds
  private float[] logits = new float[0];

  /**
   * What to decode for one request.
   *
   * @param tag the caller's handle, returned with the result
   * @param promptIds image tokens then text ids
   * @param queryEmbeds the image's query embeddings, [Q, H]
   * @param options generation options
   * @param seed the request's seed (sampling)
   * @param imageKey the image's key (sha256) under which its prefix KV is reused
   */
  public record Input<T>(
      T tag,
      long[] promptIds,
      float[] queryEmbeds,
      DecodingOptions options,
      long seed,
      String imageKey) {
    int rows() {
      return options.rows();
    }

    long tokens() {
      return (long) promptIds.length + options.maxNewTokens();
    }
  }

  /**
   * A request that finished.
   *
   * @param tag the caller's handle
   * @param hypotheses returned sequences, best first
   * @param prefillNanos time of the prefill it joined with
   * @param decodeNanos time from the end of its prefill until it finished
   */
  public record Finished<T>(
      T tag, List<Hypothesis> hypotheses, long prefillNanos, long decodeNanos) {}

  /**
   * An empty batch.
   *
   * @param graphs the model's graphs
   * @param maxRows most rows decoded together (a beam counts as a row)
   * @param budgetTokens most token rows the KV window may hold (rows x columns)
   * @param prefixes where image-prefix KV is reused, or null to prefill every prompt whole
   */
  public RunningBatch(Blip2Graphs graphs, int maxRows, long budgetTokens, PrefixStore prefixes) {
    this.graphs = graphs;
    this.manifest = graphs.manifest();
    this.maxRows = maxRows;
    this.budgetTokens = budgetTokens;
    this.prefixes = prefixes;
    this.vocab = manifest.text().vocabSize();
    this.pad = manifest.tokens().padTokenId();
    this.stops = manifest.tokens().stopTokenIds();
    this.cache = graphs.newCache(0, 0);
    this.prefiller = new JoinPrefill(graphs, prefixes);
    cache.limitGrowth(budgetTokens);
  }

  /** Whether no request is decoding. */
  @Override
  public boolean isEmpty() {
    return members.isEmpty();
  }

  /** Rows held by live requests. */
  @Override
  public int busyRows() {
    int n = 0;
    for (BatchMember<T> m : members) {
      n += m.group.rows;
    }
    return n;
  }

  /** Bytes of KV the window holds now (free rows included). */
  @Override
  public long kvBytesInUse() {
    return cache.bytesInUse();
  }

  /** Bytes of KV of one token of one row. */
  @Override
  public long kvBytesPerToken() {
    return cache.bytesPerToken();
  }

  /**
   * Whether a request could ever run: alone, its rows and tokens fit {@code maxRows} and the
   * budget.
   */
  @Override
  public boolean canEverFit(Input<T> input) {
    return input.rows() * input.tokens() <= budgetTokens;
  }

  /** The KV budget in token rows. */
  @Override
  public long budgetTokens() {
    return budgetTokens;
  }

  /** The tags of the requests decoding now. */
  @Override
  public List<T> tags() {
    return members.stream().map(m -> m.tag).toList();
  }

  /**
   * Whether these requests can join now: free or new rows for each, and the KV window, with every
   * live and joining request generating up to its {@code maxNewTokens}, within the budget.
   */
  @Override
  public boolean fits(List<Input<T>> joiners) {
    List<Boolean> taken = new ArrayList<>();
    for (BatchMember<T> owner : rowOwner) {
      taken.add(owner == null ? null : Boolean.TRUE);
    }
    int length = cache.length();
    int remaining = 0;
    for (BatchMember<T> m : members) {
      remaining = Math.max(remaining, m.remaining());
    }
    int live = busyRows();
    for (Input<T> in : joiners) {
      int at = slotFor(taken, in.rows());
      if (at < 0) {
        // One request wider than maxRows still runs, alone (as a static batch always allowed).
        if (live > 0 && live + in.rows() > maxRows) {
          return false;
        }
        taken = compacted(taken); // what compaction before joining would leave
        at = taken.size();
      }
      while (taken.size() < at + in.rows()) {
        taken.add(null);
      }
      for (int j = 0; j < in.rows(); j++) {
        taken.set(at + j, Boolean.TRUE);
      }
      live += in.rows();
      length = Math.max(length, in.promptIds().length);
      remaining = Math.max(remaining, in.options().maxNewTokens());
    }
    return (long) taken.size() * (length + remaining) <= budgetTokens;
  }

  /**
   * Prefills the joiners together, picks their first tokens and adds those not finished yet to the
   * batch. The caller checked {@link #fits}.
   *
   * @return joiners that finished with their first token
   */
  @Override
  public List<Finished<T>> join(List<Input<T>> joiners) {
    if (joiners.isEmpty()) {
      return List.of();
    }
    int q = manifest.numQueryTokens();
    List<SequenceGroup> groups = new ArrayList<>();
    List<long[]> rowPrompts = new ArrayList<>();
    List<float[]> rowImages = new ArrayList<>();
    for (Input<T> in : joiners) {
      SequenceGroup group =
          SequenceGroup.create(
              rowPrompts.size(), in.options(), in.promptIds(), stops, pad, in.seed());
      groups.add(group);
      for (int r = 0; r < group.rows; r++) {
        rowPrompts.add(in.promptIds());
        rowImages.add(in.queryEmbeds());
      }
    }
    int rows = rowPrompts.size();
    PromptBuilder.Padded padded = PromptBuilder.pad(rowPrompts, q, pad);
    int length = padded.length();

    long[] joinMask = padded.mask();
    long[] joinOnes = new long[rows];
    long[] positions = new long[rows * length];
    for (int r = 0; r < rows; r++) {
      long sum = 0;
      for (int t = 0; t < length; t++) {
        long m = joinMask[r * length + t];
        sum += m;
        // Padding gets 0, as Hugging Face's generate() passes (masked, so any value would do).
        positions[r * length + t] = m == 1 ? sum - 1 : 0;
      }
      joinOnes[r] = sum;
    }
    long start = System.nanoTime();
    KvCache prefill = graphs.newCache(rows, length);
    List<Finished<T>> done = new ArrayList<>();
    try {
      float[] joinLogits = new float[rows * vocab];
      if (prefixes == null) {
        prefiller.whole(padded, rowImages, positions, prefill, joinLogits);
      } else {
        List<String> rowKeys = new ArrayList<>();
        for (Input<T> in : joiners) {
          for (int r = 0; r < in.rows(); r++) {
            rowKeys.add(in.imageKey());
          }
        }
        prefiller.afterImagePrefix(padded, rowImages, rowKeys, positions, prefill, joinLogits);
      }
      long prefillEnd = System.nanoTime();
      long[] joinNext = new long[rows];
      int[] sourceRows = new int[rows];
      for (SequenceGroup g : groups) {
        g.step(joinLogits, vocab, joinNext, sourceRows);
      }
      prefill.reorder(sourceRows);
      for (int i = 0; i < joiners.size(); i++) {
        SequenceGroup g = groups.get(i);
        BatchMember<T> member =
            new BatchMember<>(joiners.get(i).tag(), g, prefillEnd - start, prefillEnd);
        if (g.done()) {
          done.add(member.finished(prefillEnd));
        } else {
          add(member, prefill, joinMask, joinOnes, joinNext, length);
        }
      }
    } finally {
      graphs.recycle(prefill);
    }
    return done;
  }

  /** Adds a joined member: its rows of {@code prefill} go into free or new rows of the cache. */
  private void add(
      BatchMember<T> member,
      KvCache prefill,
      long[] joinMask,
      long[] joinOnes,
      long[] joinNext,
      int len) {
    SequenceGroup g = member.group;
    int from = g.firstRow; // its rows in the prefill batch
    int at = slotFor(rowOwner, g.rows);
    if (at < 0) {
      compact();
      at = rowOwner.size();
    }
    // Joiners' prompts start at column 0 of the prefill (image tokens first), so all len columns
    // are the row's own and the window must be at least that wide.
    if (cache.length() < len) {
      widen(len);
    }
    int window = cache.length();
    int rows = Math.max(rowOwner.size(), at + g.rows);
    resizeRows(rows);
    cache.place(at, prefill, from, g.rows);
    for (int j = 0; j < g.rows; j++) {
      int r = at + j;
      rowOwner.set(r, member);
      Arrays.fill(mask, r * window, (r + 1) * window, 0);
      int copy = Math.min(len, window);
      System.arraycopy(
          joinMask, (from + j) * len + len - copy, mask, r * window + window - copy, copy);
      ones[r] = joinOnes[from + j];
      nextTokens[r] = joinNext[from + j];
    }
    g.moveTo(at);
    members.add(member);
  }

  /**
   * Runs one decoder step over every row, then lets each live request pick its next tokens.
   *
   * @return requests that finished at this step
   */
  @Override
  public List<Finished<T>> step() {
    int rows = rowOwner.size();
    if (members.isEmpty()) {
      return List.of();
    }
    int past = cache.length();
    int total = past + 1;
    long[] stepMask = new long[rows * total];
    long[] stepPositions = new long[rows];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(mask, r * past, stepMask, r * total, past);
      stepMask[r * total + past] = 1;
      if (rowOwner.get(r) != null) {
        stepPositions[r] = ones[r];
        ones[r]++;
      } // a free row stays at position 0: however long it lingers, it never passes the model's
      // last position
    }
    mask = stepMask;
    if (logits.length != rows * vocab) {
      logits = new float[rows * vocab];
    }
    float[] stepEmbeds = graphs.embed(nextTokens, rows, 1);
    graphs.decode(stepEmbeds, 1, mask, stepPositions, cache, logits);
    long now = System.nanoTime();

    int[] sourceRows = new int[rows];
    for (int r = 0; r < rows; r++) {
      sourceRows[r] = r;
      nextTokens[r] = pad; // free rows
    }
    List<Finished<T>> done = new ArrayList<>();
    for (BatchMember<T> m : members) {
      m.group.step(logits, vocab, nextTokens, sourceRows);
    }
    cache.reorder(sourceRows);
    List<BatchMember<T>> still = new ArrayList<>();
    for (BatchMember<T> m : members) {
      if (m.group.done()) {
        m.group.doneAtNanos = now;
        done.add(m.finished(now));
        for (int j = 0; j < m.group.rows; j++) {
          rowOwner.set(m.group.firstRow + j, null);
        }
      } else {
        still.add(m);
      }
    }
    members.clear();
    members.addAll(still);
    tidy();
    return done;
  }

  /** Drops free rows at the end; compacts when free rows or all-padding columns dominate. */
  private void tidy() {
    if (members.isEmpty()) {
      clear();
      return;
    }
    int rows = rowOwner.size();
    while (rows > 0 && rowOwner.get(rows - 1) == null) {
      rows--;
    }
    if (rows < rowOwner.size()) {
      resizeRows(rows);
      cache.truncate(rows);
    }
    int live = busyRows();
    int leading = cache.length();
    for (int r = 0; r < rows; r++) {
      if (rowOwner.get(r) != null) {
        leading = Math.min(leading, leadingPadding(mask, cache.length(), r, 1));
      }
    }
    if (rows - live > live || leading >= Math.max(8, cache.length() / 4)) {
      compact();
    }
  }

  /**
   * Rewrites the cache with live rows only, in order, and without the columns that are padding for
   * every one of them.
   */
  private void compact() {
    int window = cache.length();
    int leading = window;
    List<Integer> keep = new ArrayList<>();
    for (int r = 0; r < rowOwner.size(); r++) {
      if (rowOwner.get(r) != null) {
        keep.add(r);
        leading = Math.min(leading, leadingPadding(mask, window, r, 1));
      }
    }
    if (keep.isEmpty()) {
      leading = window;
    }
    int newWindow = window - leading;
    int[] source = keep.stream().mapToInt(Integer::intValue).toArray();
    rearrange(source, newWindow);
  }

  /** Widens the window to {@code newWindow} columns, every row padded on the left. */
  private void widen(int newWindow) {
    int[] same = new int[rowOwner.size()];
    for (int r = 0; r < same.length; r++) {
      same[r] = rowOwner.get(r) == null ? -1 : r;
    }
    rearrange(same, newWindow);
  }

  /** New row r = old row source[r] (-1 = free), right-aligned in newWindow columns. */
  private void rearrange(int[] source, int newWindow) {
    int window = cache.length();
    cache.regather(source, newWindow);
    int rows = source.length;
    long[] newMask = new long[rows * newWindow];
    long[] newOnes = new long[rows];
    long[] newNext = new long[rows];
    List<BatchMember<T>> newOwner = new ArrayList<>();
    int keep = Math.min(window, newWindow);
    for (int r = 0; r < rows; r++) {
      int s = source[r];
      BatchMember<T> owner = s < 0 ? null : rowOwner.get(s);
      newOwner.add(owner);
      newNext[r] = pad;
      if (s >= 0) {
        System.arraycopy(
            mask, s * window + window - keep, newMask, r * newWindow + newWindow - keep, keep);
        newOnes[r] = ones[s];
        newNext[r] = nextTokens[s];
      }
    }
    // Each member's rows stay contiguous and in order: its first row moves to its new place.
    for (int r = rows - 1; r >= 0; r--) {
      BatchMember<T> owner = newOwner.get(r);
      if (owner != null && (r == 0 || newOwner.get(r - 1) != owner)) {
        owner.group.moveTo(r);
      }
    }
    rowOwner.clear();
    rowOwner.addAll(newOwner);
    mask = newMask;
    ones = newOnes;
    nextTokens = newNext;
  }

  private void resizeRows(int rows) {
    int window = cache.length();
    int old = rowOwner.size();
    mask = Arrays.copyOf(mask, rows * window);
    ones = Arrays.copyOf(ones, rows);
    nextTokens = Arrays.copyOf(nextTokens, rows);
    for (int r = old; r < rows; r++) {
      rowOwner.add(null);
      nextTokens[r] = pad;
    }
    while (rowOwner.size() > rows) {
      rowOwner.remove(rowOwner.size() - 1);
    }
  }

  /** First run of {@code count} free rows, or -1. */
  private static <M> int slotFor(List<M> owners, int count) {
    int run = 0;
    for (int r = 0; r < owners.size(); r++) {
      run = owners.get(r) == null ? run + 1 : 0;
      if (run == count) {
        return r - count + 1;
      }
    }
    return -1;
  }

  private static <M> List<M> compacted(List<M> owners) {
    List<M> out = new ArrayList<>();
    for (M m : owners) {
      if (m != null) {
        out.add(m);
      }
    }
    return out;
  }

  /** Columns before the first real token, the smallest over {@code count} rows from {@code row}. */
  private static int leadingPadding(long[] mask, int window, int row, int count) {
    int min = window;
    for (int r = row; r < row + count; r++) {
      int t = 0;
      while (t < window && mask[r * window + t] == 0) {
        t++;
      }
      min = Math.min(min, t);
    }
    return min;
  }

  /** Drops every request (after a failure: their state is unknown); the batch is empty again. */
  @Override
  public void clear() {
    members.clear();
    rowOwner.clear();
    cache.truncate(0);
    mask = new long[0];
    ones = new long[0];
    nextTokens = new long[0];
  }

  @Override
  public void close() {
    graphs.recycle(cache);
  }
}
