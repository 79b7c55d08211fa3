package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.DecodingOptions.EarlyStopping;
import io.shoplens.processor.inference.FinishReason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search for one request, step for step as Hugging Face's {@code GenerationMixin._beam_search}
 * (transformers 5.x) computes it for one batch item: top {@code K = max(2, 1 + stops) * beams}
 * continuations of the accumulated log probabilities, the best {@code beams} unfinished ones run
 * on, finished ones enter a {@code beams}-sized pool scored with the length penalty, and the same
 * early-stopping heuristic and float32 arithmetic (including the {@code -1e9} masking constants).
 */
final class BeamSearchGroup extends SequenceGroup {
  private static final float MASKED = -1.0e9f;

  private final LogitsProcessor processors;
  private final int beams;
  private final int candidates;
  private final double lengthPenalty;
  private final EarlyStopping earlyStopping;

  private long[][] running;
  private float[] runningScores;
  private long[][] finished;
  private int[] finishedLengths;
  private float[] finishedScores;
  private boolean[] finishedFlags;
  private boolean improvementPossible = true;

  BeamSearchGroup(
      int firstRow,
      DecodingOptions options,
      long[] prompt,
      LogitsProcessor processors,
      List<Integer> stops,
      long pad) {
    super(firstRow, options.numBeams(), options, prompt, stops, pad);
    this.processors = processors;
    this.beams = options.numBeams();
    this.candidates = Math.max(2, 1 + this.stops.length) * beams;
    this.lengthPenalty = options.lengthPenalty();
    this.earlyStopping = options.earlyStopping();
    int max = options.maxNewTokens();
    running = new long[beams][max];
    runningScores = new float[beams];
    Arrays.fill(runningScores, 1, beams, MASKED); // only beam 0 is live at first
    finished = new long[beams][max];
    finishedLengths = new int[beams];
    finishedScores = new float[beams];
    Arrays.fill(finishedScores, MASKED);
    finishedFlags = new boolean[beams];
  }

  @Override
  void step(float[] logits, int vocab, long[] nextTokens, int[] sourceRows) {
    int g = generated;
    // b. log_softmax, processors, plus the running beam score, over beams * V candidates.
    float[] accumulated = new float[beams * vocab];
    float[] row = new float[vocab];
    for (int b = 0; b < beams; b++) {
      System.arraycopy(logits, (firstRow + b) * vocab, row, 0, vocab);
      Logits.logSoftmax(row);
      processors.process(row, sequence(running[b], g), g);
      float base = runningScores[b];
      for (int v = 0; v < vocab; v++) {
        accumulated[b * vocab + v] = row[v] + base;
      }
    }
    // c. top-K continuations.
    int[] top = Logits.topK(accumulated, candidates);
    int k = top.length;
    float[] topScores = new float[k];
    int[] topBeams = new int[k];
    long[] topTokens = new long[k];
    boolean[] hits = new boolean[k];
    boolean allHit = true;
    for (int i = 0; i < k; i++) {
      topScores[i] = accumulated[top[i]];
      topBeams[i] = top[i] / vocab;
      topTokens[i] = top[i] % vocab;
      // d. stopping criteria on each candidate: a stop token, or max length reached.
      hits[i] = isStop(topTokens[i]) || g + 1 >= options.maxNewTokens();
      allHit &= hits[i];
    }
    // e. the best `beams` candidates that did not finish run on.
    float[] runScores = new float[k];
    for (int i = 0; i < k; i++) {
      runScores[i] = topScores[i] + (hits[i] ? MASKED : 0f);
    }
    int[] next = Logits.topK(runScores, beams);
    long[][] newRunning = new long[beams][];
    float[] newRunningScores = new float[beams];
    for (int j = 0; j < beams; j++) {
      int c = next[j];
      newRunning[j] = running[topBeams[c]].clone();
      newRunning[j][g] = topTokens[c];
      newRunningScores[j] = runScores[c];
      nextTokens[firstRow + j] = topTokens[c];
      sourceRows[firstRow + j] = firstRow + topBeams[c];
    }
    // f. finished candidates among the top `beams` join the pool if they beat its members.
    float denominator = (float) Math.pow(g + 1, lengthPenalty);
    boolean poolFull = allTrue(finishedFlags) && earlyStopping == EarlyStopping.WHEN_BEAMS_FULL;
    float[] merged = new float[beams + k];
    System.arraycopy(finishedScores, 0, merged, 0, beams);
    for (int i = 0; i < k; i++) {
      float s = topScores[i] / denominator;
      s += poolFull ? MASKED : 0f;
      s += improvementPossible ? 0f : MASKED;
      boolean justFinished = hits[i] && i < beams;
      s += justFinished ? 0f : MASKED;
      merged[beams + i] = s;
    }
    int[] keep = Logits.topK(merged, beams);
    long[][] newFinished = new long[beams][];
    int[] newLengths = new int[beams];
    float[] newScores = new float[beams];
    boolean[] newFlags = new boolean[beams];
    for (int j = 0; j < beams; j++) {
      int m = keep[j];
      newScores[j] = merged[m];
      if (m < beams) {
        newFinished[j] = finished[m];
        newLengths[j] = finishedLengths[m];
        newFlags[j] = finishedFlags[m];
      } else {
        int i = m - beams;
        long[] seq = running[topBeams[i]].clone();
        seq[g] = topTokens[i];
        newFinished[j] = seq;
        newLengths[j] = g + 1;
        newFlags[j] = hits[i] && i < beams;
      }
    }
    running = newRunning;
    runningScores = newRunningScores;
    finished = newFinished;
    finishedLengths = newLengths;
    finishedScores = newScores;
    finishedFlags = newFlags;
    generated = g + 1;

    // g. can the best running beam still beat the worst finished one?
    int bestLength =
        earlyStopping == EarlyStopping.NEVER && lengthPenalty > 0
            ? options.maxNewTokens()
            : generated;
    float bestPossible = runningScores[0] / (float) Math.pow(bestLength, lengthPenalty);
    float worstFinished = Float.POSITIVE_INFINITY;
    for (float s : finishedScores) {
      worstFinished = Math.min(worstFinished, s);
    }
    boolean any = false;
    for (int j = 0; j < beams; j++) {
      any |= bestPossible > (finishedFlags[j] ? worstFinished : MASKED);
    }
    improvementPossible &= any;
    boolean openBeam = !(allTrue(finishedFlags) && earlyStopping == EarlyStopping.WHEN_BEAMS_FULL);
    if (!improvementPossible || !openBeam || allHit) {
      markDone();
    }
  }

  @Override
  List<Hypothesis> results() {
    List<Hypothesis> out = new ArrayList<>();
    for (int j = 0; j < options.numReturnSequences(); j++) {
      long[] seq = Arrays.copyOf(finished[j], finishedLengths[j]);
      FinishReason reason =
          seq.length > 0 && isStop(seq[seq.length - 1]) ? FinishReason.STOP : FinishReason.LENGTH;
      out.add(new Hypothesis(seq, reason, finishedScores[j]));
    }
    return out;
  }

  private static boolean allTrue(boolean[] flags) {
    for (boolean f : flags) {
      if (!f) {
        return false;
      }
    }
    return true;
  }
}
