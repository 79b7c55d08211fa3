package io.shoplens.processor.inference.generation;

import io.shoplens.processor.inference.DecodingOptions;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.onnx.Blip2Graphs;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a batch of prompts together with a KV cache, each request with its own options: a static
 * batch on a {@link RunningBatch} that nobody joins after the first prefill.
 *
 * <p>Rows are laid out as Hugging Face lays them out: each request occupies {@code numBeams} rows
 * (beam search) or {@code numReturnSequences} rows (greedy, sampling), prompts are left-padded
 * after the image tokens, and position ids are OPT's, from the mask. Requests finish independently
 * and leave the batch when they do; the batch stops when all have.
 */
public final class BatchDecoder {
  private final Blip2Graphs graphs;
  private final ModelManifest manifest;

  public BatchDecoder(Blip2Graphs graphs) {
    this.graphs = graphs;
    this.manifest = graphs.manifest();
  }

  /**
   * What to decode for one request.
   *
   * @param promptIds image tokens then text ids
   * @param queryEmbeds the image's query embeddings, [Q, H]
   * @param options generation options
   * @param seed the request's seed (sampling)
   */
  public record Input(long[] promptIds, float[] queryEmbeds, DecodingOptions options, long seed) {}

  /**
   * What came out for one request.
   *
   * @param hypotheses returned sequences, best first
   * @param prefillNanos time of the batch's prefill
   * @param decodeNanos time from the end of prefill until this request finished
   */
  public record Output(List<Hypothesis> hypotheses, long prefillNanos, long decodeNanos) {}

  /**
   * Decodes the batch as a static batch (all prefilled together, nobody joins later); every output
   * corresponds to the input at the same index.
   */
  public List<Output> decode(List<Input> inputs) {
    List<RunningBatch.Input<Integer>> joiners = new ArrayList<>();
    int rows = 0;
    for (int i = 0; i < inputs.size(); i++) {
      Input in = inputs.get(i);
      joiners.add(
          new RunningBatch.Input<>(
              i, in.promptIds(), in.queryEmbeds(), in.options(), in.seed(), null));
      rows += in.options().rows();
    }
    Output[] outputs = new Output[inputs.size()];
    try (RunningBatch<Integer> batch = new RunningBatch<>(graphs, rows, Long.MAX_VALUE, null)) {
      List<RunningBatch.Finished<Integer>> finished = new ArrayList<>(batch.join(joiners));
      while (!batch.isEmpty()) {
        finished.addAll(batch.step());
      }
      for (RunningBatch.Finished<Integer> f : finished) {
        outputs[f.tag()] = new Output(f.hypotheses(), f.prefillNanos(), f.decodeNanos());
      }
    }
    return List.of(outputs);
  }
}
