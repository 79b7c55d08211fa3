package io.shoplens.processor.inference.t5;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Encoder-decoder generation on a BLIP-2 T5 bundle, as Hugging Face's {@code generate()} does it
 * (docs/model-bundle.md, "BLIP-2 Flan-T5 bundles", generation rules): the encoder runs once per
 * batch, its cross-attention KV is fed to every decoder step, the decoder starts from {@code
 * decoder_start_token_id}.
 *
 * <p>A test oracle, not what the engine runs: greedy and beam search over a whole batch, every row
 * starting together and finished rows fed padding, written the way transformers' vectorised loop
 * is, so that {@link T5ParityTest} can check the graphs step by step against Hugging Face. The
 * engine decodes T5 with {@code generation.EncoderDecoderBatch} and the same token pickers as OPT
 * ({@code T5EngineTest} checks it against the same reference). Not thread-safe per call.
 */
public final class T5Generator {
  private static final float NEG = -1.0e9f; // transformers' "impossible" beam score

  private final T5Graphs graphs;
  private final T5Manifest.Tokens tokens;
  private final Set<Long> stops;

  /**
   * One batch row: an image and its prompt's token ids as {@code tokenizer.json} encodes them
   * (special tokens on, so ending with {@code </s>}).
   *
   * @param pixels pixel_values [3, S, S]
   * @param promptIds the prompt's ids ({@code [</s>]} for a caption: the empty prompt)
   */
  public record Row(float[] pixels, long[] promptIds) {}

  /**
   * The encoder input of a batch: image tokens, prompt ids, right padding.
   *
   * @param ids [batch][length]
   * @param mask [batch][length], 1 = real
   */
  public record EncoderInput(long[][] ids, long[][] mask) {}

  /**
   * Generated decoder sequences.
   *
   * @param sequences per returned row: {@code decoder_start_token_id} then the generated tokens,
   *     padded as Hugging Face pads them
   * @param scores beam search's length-penalised scores (empty for greedy)
   */
  public record Output(List<long[]> sequences, float[] scores) {}

  public T5Generator(T5Graphs graphs) {
    this.graphs = graphs;
    this.tokens = graphs.manifest().tokens();
    this.stops = tokens.stopTokenIds().stream().map(Integer::longValue).collect(Collectors.toSet());
  }

  /** Q image tokens in front of each prompt, right-padded with pad_token_id (mask 0). */
  public EncoderInput encoderInput(List<Row> rows) {
    int q = graphs.manifest().numQueryTokens();
    int length = rows.stream().mapToInt(r -> q + r.promptIds().length).max().orElse(q);
    long[][] ids = new long[rows.size()][length];
    long[][] mask = new long[rows.size()][length];
    for (int b = 0; b < rows.size(); b++) {
      long[] prompt = rows.get(b).promptIds();
      Arrays.fill(ids[b], tokens.padTokenId());
      Arrays.fill(ids[b], 0, q, tokens.imageTokenId());
      System.arraycopy(prompt, 0, ids[b], q, prompt.length);
      Arrays.fill(mask[b], 0, q + prompt.length, 1L);
    }
    return new EncoderInput(ids, mask);
  }

  /** Greedy decoding; finished rows are fed pad_token_id until every row has stopped. */
  public Output greedy(List<Row> rows, int maxNewTokens) {
    int batch = rows.size();
    T5Graphs.Encoded encoded = encode(rows);
    List<long[]> sequences = new ArrayList<>();
    long[] next = new long[batch];
    Arrays.fill(next, tokens.decoderStartTokenId());
    boolean[] finished = new boolean[batch];
    List<List<Long>> out = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      out.add(new ArrayList<>(List.of((long) tokens.decoderStartTokenId())));
    }
    float[][] selfKv = emptyKv();
    int vocab = graphs.manifest().text().vocabSize();
    for (int step = 0; step < maxNewTokens; step++) {
      T5Graphs.Step s = decodeStep(next, step, selfKv, encoded);
      selfKv = s.selfKv();
      boolean allDone = true;
      for (int b = 0; b < batch; b++) {
        long token = finished[b] ? tokens.padTokenId() : argmax(s.logits(), b * vocab, vocab);
        out.get(b).add(token);
        finished[b] |= stops.contains(token);
        allDone &= finished[b];
        next[b] = token;
      }
      if (allDone) {
        break;
      }
    }
    for (List<Long> row : out) {
      sequences.add(row.stream().mapToLong(Long::longValue).toArray());
    }
    return new Output(sequences, new float[0]);
  }

  /**
   * Beam search as transformers 5.x's vectorised {@code _beam_search} (docs/model-bundle.md, beam
   * rules; the decoder's prompt is the single start token). The encoder runs once per row; its
   * cross KV is repeated for the beams and never moves between rows.
   */
  public Output beamSearch(
      List<Row> rows, int maxNewTokens, int numBeams, int numReturn, double lengthPenalty) {
    int batch = rows.size();
    int vocab = graphs.manifest().text().vocabSize();
    T5Graphs.Encoded encoded = repeatRows(encode(rows), numBeams);
    int promptLen = 1;
    int maxLength = promptLen + maxNewTokens;
    int keep = Math.max(2, 1 + stops.size()) * numBeams;
    int fill = tokens.beamFillTokenId();

    long[][][] runningSeq = new long[batch][numBeams][maxLength];
    for (long[][] row : runningSeq) {
      for (long[] beam : row) {
        Arrays.fill(beam, fill);
        beam[0] = tokens.decoderStartTokenId();
      }
    }
    long[][][] sequences = deepCopy(runningSeq);
    float[][] runningScores = new float[batch][numBeams];
    float[][] beamScores = new float[batch][numBeams];
    boolean[][] finished = new boolean[batch][numBeams];
    int[][] generatedLen = new int[batch][numBeams];
    int[][] runningGenLen = new int[batch][numBeams];
    boolean[] heuristicUnsatisfied = new boolean[batch];
    for (int b = 0; b < batch; b++) {
      Arrays.fill(runningScores[b], 1, numBeams, NEG);
      Arrays.fill(beamScores[b], NEG);
      heuristicUnsatisfied[b] = true;
    }

    long[] last = new long[batch * numBeams];
    Arrays.fill(last, tokens.decoderStartTokenId());
    T5Graphs.Step step = decodeStep(last, 0, emptyKv(), encoded);
    float[][] selfKv = step.selfKv();
    float[] logits = step.logits();
    int curLen = promptLen;
    while (true) {
      boolean allHit = true;
      int[] reorder = new int[batch * numBeams];
      for (int b = 0; b < batch; b++) {
        // Scores of every (beam, token) candidate of row b, then the best `keep` of them.
        float[] logProbs = new float[numBeams * vocab];
        for (int k = 0; k < numBeams; k++) {
          logSoftmax(logits, (b * numBeams + k) * vocab, vocab, logProbs, k * vocab);
          for (int v = 0; v < vocab; v++) {
            logProbs[k * vocab + v] += runningScores[b][k];
          }
        }
        int[] top = topK(logProbs, keep);
        float[] topLp = new float[keep];
        int[] srcBeam = new int[keep];
        long[][] topSeq = new long[keep][];
        int[] topGenLen = new int[keep];
        boolean[] hits = new boolean[keep];
        for (int i = 0; i < keep; i++) {
          topLp[i] = logProbs[top[i]];
          srcBeam[i] = top[i] / vocab;
          long id = top[i] % vocab;
          topSeq[i] = runningSeq[b][srcBeam[i]].clone();
          topSeq[i][curLen] = id;
          topGenLen[i] = runningGenLen[b][srcBeam[i]] + 1;
          hits[i] = stops.contains(id) || curLen + 1 >= maxLength;
          allHit &= hits[i];
        }
        // Running beams for the next step: the best candidates that did not stop.
        float[] runningLp = new float[keep];
        for (int i = 0; i < keep; i++) {
          runningLp[i] = topLp[i] + (hits[i] ? NEG : 0f);
        }
        int[] nxt = topK(runningLp, numBeams);
        for (int k = 0; k < numBeams; k++) {
          runningSeq[b][k] = topSeq[nxt[k]].clone();
          runningScores[b][k] = runningLp[nxt[k]];
          runningGenLen[b][k] = topGenLen[nxt[k]];
          reorder[b * numBeams + k] = b * numBeams + srcBeam[nxt[k]];
        }
        // Finished hypotheses: only candidates among the first num_beams may finish.
        float penalty = (float) Math.pow(curLen + 1 - promptLen, lengthPenalty);
        float[] mergedScores = new float[numBeams + keep];
        for (int k = 0; k < numBeams; k++) {
          mergedScores[k] = beamScores[b][k];
        }
        for (int i = 0; i < keep; i++) {
          boolean justFinished = hits[i] && i < numBeams;
          float scored = topLp[i] / penalty;
          scored += heuristicUnsatisfied[b] ? 0f : NEG;
          scored += justFinished ? 0f : NEG;
          mergedScores[numBeams + i] = scored;
        }
        int[] best = topK(mergedScores, numBeams);
        long[][] newSeq = new long[numBeams][];
        float[] newScores = new float[numBeams];
        boolean[] newFinished = new boolean[numBeams];
        int[] newLen = new int[numBeams];
        for (int k = 0; k < numBeams; k++) {
          int j = best[k];
          boolean fromOld = j < numBeams;
          newSeq[k] = fromOld ? sequences[b][j] : topSeq[j - numBeams];
          newScores[k] = mergedScores[j];
          newFinished[k] = fromOld ? finished[b][j] : hits[j - numBeams] && j - numBeams < numBeams;
          newLen[k] = fromOld ? generatedLen[b][j] : topGenLen[j - numBeams];
        }
        sequences[b] = newSeq;
        beamScores[b] = newScores;
        finished[b] = newFinished;
        generatedLen[b] = newLen;
      }
      curLen++;
      boolean anyUnsatisfied = false;
      for (int b = 0; b < batch; b++) {
        float bestRunning =
            runningScores[b][0] / (float) Math.pow(curLen - promptLen, lengthPenalty);
        float worstFinished = Float.POSITIVE_INFINITY;
        for (float s : beamScores[b]) {
          worstFinished = Math.min(worstFinished, s);
        }
        boolean anyAbove = false;
        for (int k = 0; k < numBeams; k++) {
          anyAbove |= bestRunning > (finished[b][k] ? worstFinished : NEG);
        }
        heuristicUnsatisfied[b] &= anyAbove;
        anyUnsatisfied |= heuristicUnsatisfied[b];
      }
      if (!anyUnsatisfied || allHit) {
        break;
      }
      // Next step: reorder the self KV to the surviving beams and feed their last tokens.
      selfKv = reorderRows(selfKv, reorder, curLen - 1);
      for (int b = 0; b < batch; b++) {
        for (int k = 0; k < numBeams; k++) {
          last[b * numBeams + k] = runningSeq[b][k][curLen - 1];
        }
      }
      step = decodeStep(last, curLen - 1, selfKv, encoded);
      selfKv = step.selfKv();
      logits = step.logits();
    }

    int outLen = 0;
    for (int b = 0; b < batch; b++) {
      for (int k = 0; k < numReturn; k++) {
        outLen = Math.max(outLen, promptLen + generatedLen[b][k]);
      }
    }
    List<long[]> out = new ArrayList<>();
    float[] scores = new float[batch * numReturn];
    for (int b = 0; b < batch; b++) {
      for (int k = 0; k < numReturn; k++) {
        out.add(Arrays.copyOf(sequences[b][k], outLen));
        scores[b * numReturn + k] = beamScores[b][k];
      }
    }
    return new Output(out, scores);
  }

  /**
   * The decoder's logits at each step when it is fed {@code forced} (teacher forcing): element i is
   * the logits [V] after {@code decoder_start_token_id} and {@code forced[0..i-1]}. What a sampler
   * draws from; also how the sampling parity cases are checked step by step.
   */
  public List<float[]> forcedLogits(Row row, long[] forced) {
    T5Graphs.Encoded encoded = encode(List.of(row));
    List<float[]> out = new ArrayList<>();
    long[] next = {tokens.decoderStartTokenId()};
    float[][] selfKv = emptyKv();
    for (int step = 0; step <= forced.length; step++) {
      T5Graphs.Step s = decodeStep(next, step, selfKv, encoded);
      selfKv = s.selfKv();
      out.add(s.logits());
      if (step < forced.length) {
        next = new long[] {forced[step]};
      }
    }
    return out;
  }

  // ---- steps ----

  private T5Graphs.Encoded encode(List<Row> rows) {
    int batch = rows.size();
    EncoderInput input = encoderInput(rows);
    int length = input.ids()[0].length;
    int hidden = graphs.manifest().text().hiddenSize();
    int pixelCount = graphs.manifest().vision().pixelCount();
    float[] pixels = new float[batch * pixelCount];
    long[] ids = new long[batch * length];
    long[] mask = new long[batch * length];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(rows.get(b).pixels(), 0, pixels, b * pixelCount, pixelCount);
      System.arraycopy(input.ids()[b], 0, ids, b * length, length);
      System.arraycopy(input.mask()[b], 0, mask, b * length, length);
    }
    float[] query = graphs.vision(pixels, batch);
    float[] embeds = graphs.embed(ids, batch, length);
    // Hugging Face's masked_scatter: the k-th <image> id of the batch, in row-major order, gets the
    // k-th query vector. Every row holds exactly Q of them, so row b gets its own image's queries.
    int next = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == tokens.imageTokenId()) {
        if ((next + 1) * hidden > query.length) {
          throw new IllegalArgumentException(
              "a prompt contains the image token "
                  + tokens.imageTokenId()
                  + ": more image tokens than query embeddings");
        }
        System.arraycopy(query, next * hidden, embeds, i * hidden, hidden);
        next++;
      }
    }
    return graphs.encode(embeds, mask, batch, length);
  }

  private T5Graphs.Step decodeStep(
      long[] tokenIds, int past, float[][] selfKv, T5Graphs.Encoded enc) {
    long[] decoderMask = new long[enc.batch() * (past + 1)];
    Arrays.fill(decoderMask, 1L); // every row's decoder starts together: no decoder padding
    return graphs.decode(graphs.embed(tokenIds, enc.batch(), 1), decoderMask, past, selfKv, enc);
  }

  private float[][] emptyKv() {
    float[][] kv = new float[2 * graphs.manifest().text().numLayers()][];
    for (int i = 0; i < kv.length; i++) {
      kv[i] = new float[0];
    }
    return kv;
  }

  private T5Graphs.Encoded repeatRows(T5Graphs.Encoded enc, int times) {
    int[] rows = new int[enc.batch() * times];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = i / times;
    }
    long[] mask = new long[rows.length * enc.length()];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(enc.mask(), rows[i] * enc.length(), mask, i * enc.length(), enc.length());
    }
    return new T5Graphs.Encoded(
        rows.length, enc.length(), mask, reorderRows(enc.crossKv(), rows, enc.length()));
  }

  /** Row {@code i} of each result is row {@code rows[i]} of the input, tensors [B, N, len, D]. */
  private float[][] reorderRows(float[][] tensors, int[] rows, int length) {
    T5Manifest.Text t = graphs.manifest().text();
    int rowSize = t.numHeads() * length * t.headDim();
    float[][] out = new float[tensors.length][];
    for (int j = 0; j < tensors.length; j++) {
      out[j] = new float[rows.length * rowSize];
      for (int i = 0; i < rows.length; i++) {
        System.arraycopy(tensors[j], rows[i] * rowSize, out[j], i * rowSize, rowSize);
      }
    }
    return out;
  }

  // ---- arithmetic (float32, as transformers computes it) ----

  private static long argmax(float[] values, int from, int length) {
    int best = 0;
    for (int i = 1; i < length; i++) {
      if (values[from + i] > values[from + best]) {
        best = i;
      }
    }
    return best;
  }

  private static void logSoftmax(float[] x, int from, int length, float[] out, int at) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < length; i++) {
      max = Math.max(max, x[from + i]);
    }
    double sum = 0;
    for (int i = 0; i < length; i++) {
      sum += Math.exp(x[from + i] - max);
    }
    float log = (float) Math.log(sum);
    for (int i = 0; i < length; i++) {
      out[at + i] = (x[from + i] - max) - log;
    }
  }

  /** Indices of the k largest values, largest first; ties: lower index first. */
  private static int[] topK(float[] values, int k) {
    Integer[] order = new Integer[values.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(values[b], values[a]));
    int[] out = new int[Math.min(k, values.length)];
    for (int i = 0; i < out.length; i++) {
      out[i] = order[i];
    }
    return out;
  }

  private static long[][][] deepCopy(long[][][] x) {
    long[][][] out = new long[x.length][][];
    for (int i = 0; i < x.length; i++) {
      out[i] = new long[x[i].length][];
      for (int j = 0; j < x[i].length; j++) {
        out[i][j] = x[i][j].clone();
      }
    }
    return out;
  }
}
