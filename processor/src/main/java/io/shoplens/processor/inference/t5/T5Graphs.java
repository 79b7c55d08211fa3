package io.shoplens.processor.inference.t5;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.EngineStartupException;
import io.shoplens.processor.inference.bundle.BundleException;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.onnx.ElementType;
import io.shoplens.processor.inference.onnx.GraphSignature;
import io.shoplens.processor.inference.onnx.OrtTensors;
import io.shoplens.processor.inference.onnx.PrefixGraphs;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;

/**
 * The four ONNX Runtime sessions of a BLIP-2 T5 bundle (vision, embed, encoder, decoder step),
 * created once and checked against the manifest when opened (docs/model-bundle.md, "BLIP-2 Flan-T5
 * bundles", names the tensors used here).
 *
 * <p>Tensors cross the boundary as Java arrays (copied in and out), unlike the OPT graphs' pinned
 * KV buffers: simple and exact, not yet tuned for large models. Failures inside ONNX Runtime
 * surface as {@link io.shoplens.processor.inference.InferenceException}s naming the model version,
 * the graph and the input shapes; every tensor and result is closed before a method returns.
 */
public final class T5Graphs extends PrefixGraphs<T5Manifest> {
  static final String ENCODER = "encoder.onnx";
  static final String DECODER = "decoder.onnx";

  private final OrtSession encoder;
  private final OrtSession decoder;

  /**
   * The encoder's result for a batch: the cross-attention key and value of every decoder layer,
   * [k0, v0, k1, v1, ...], each [batch, N, length, D], and the encoder mask they go with.
   *
   * @param batch rows
   * @param length encoder positions per row (padding included)
   * @param mask [batch, length], 1 = real
   * @param crossKv 2 L tensors, row-major
   */
  public record Encoded(int batch, int length, long[] mask, float[][] crossKv) {}

  /**
   * One decoder step's result.
   *
   * @param logits [batch, V] of the step's last position
   * @param selfKv the present self-attention key/values, 2 L tensors of [batch, N, past + 1, D]
   */
  public record Step(float[] logits, float[][] selfKv) {}

  private T5Graphs(T5Manifest manifest, Map<String, OrtSession> sessions) {
    super(manifest, ElementType.FLOAT32, sessions);
    this.encoder = sessions.get(ENCODER);
    this.decoder = sessions.get(DECODER);
  }

  /**
   * Creates the sessions and checks their declared inputs and outputs against the manifest.
   *
   * @throws BundleException naming the graph file if a graph cannot be loaded or disagrees with the
   *     manifest
   * @throws EngineStartupException if the configured execution provider cannot be used
   */
  public static T5Graphs open(T5Bundle bundle, EngineConfig config) {
    return open(
        bundle,
        config,
        List.of(VISION, EMBED, ENCODER, DECODER),
        sessions -> new T5Graphs(bundle.manifest(), sessions));
  }

  /** The encoder over [batch, length, H] embeddings and their mask; once per request. */
  public Encoded encode(float[] embeds, long[] mask, int batch, int length) {
    int hidden = manifest.text().hiddenSize();
    int layers = manifest.text().numLayers();
    return run(
        encoder,
        ENCODER,
        in -> {
          in.put(
              "inputs_embeds",
              OnnxTensor.createTensor(
                  env, FloatBuffer.wrap(embeds), new long[] {batch, length, hidden}));
          in.put(
              "attention_mask",
              OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[] {batch, length}));
        },
        result -> {
          float[][] cross = new float[2 * layers][];
          for (int l = 0; l < layers; l++) {
            cross[2 * l] = OrtTensors.floats(result, "present." + l + ".encoder.key");
            cross[2 * l + 1] = OrtTensors.floats(result, "present." + l + ".encoder.value");
          }
          return new Encoded(batch, length, mask.clone(), cross);
        },
        "batch " + batch + ", length " + length);
  }

  /**
   * One decoder step: one new token per row.
   *
   * @param embeds [batch, 1, H], the new tokens through {@link #embed}
   * @param decoderMask [batch, past + 1], 1 = real decoder column
   * @param past decoder positions already in {@code selfKv}
   * @param selfKv 2 L tensors of [batch, N, past, D] (empty arrays when {@code past} is 0)
   * @param encoded the rows' encoder result, in the same row order
   */
  public Step decode(
      float[] embeds, long[] decoderMask, int past, float[][] selfKv, Encoded encoded) {
    T5Manifest.Text t = manifest.text();
    int batch = encoded.batch();
    return run(
        decoder,
        DECODER,
        in -> {
          in.put(
              "inputs_embeds",
              OnnxTensor.createTensor(
                  env, FloatBuffer.wrap(embeds), new long[] {batch, 1, t.hiddenSize()}));
          in.put(
              "attention_mask",
              OnnxTensor.createTensor(
                  env, LongBuffer.wrap(decoderMask), new long[] {batch, past + 1}));
          in.put(
              "encoder_attention_mask",
              OnnxTensor.createTensor(
                  env, LongBuffer.wrap(encoded.mask()), new long[] {batch, encoded.length()}));
          long[] pastShape = {batch, t.numHeads(), past, t.headDim()};
          long[] crossShape = {batch, t.numHeads(), encoded.length(), t.headDim()};
          for (int l = 0; l < t.numLayers(); l++) {
            in.put(
                "past_key_values." + l + ".decoder.key",
                OnnxTensor.createTensor(env, FloatBuffer.wrap(selfKv[2 * l]), pastShape));
            in.put(
                "past_key_values." + l + ".decoder.value",
                OnnxTensor.createTensor(env, FloatBuffer.wrap(selfKv[2 * l + 1]), pastShape));
            in.put(
                "past_key_values." + l + ".encoder.key",
                OnnxTensor.createTensor(
                    env, FloatBuffer.wrap(encoded.crossKv()[2 * l]), crossShape));
            in.put(
                "past_key_values." + l + ".encoder.value",
                OnnxTensor.createTensor(
                    env, FloatBuffer.wrap(encoded.crossKv()[2 * l + 1]), crossShape));
          }
        },
        result -> {
          float[][] present = new float[2 * t.numLayers()][];
          for (int l = 0; l < t.numLayers(); l++) {
            present[2 * l] = OrtTensors.floats(result, "present." + l + ".decoder.key");
            present[2 * l + 1] = OrtTensors.floats(result, "present." + l + ".decoder.value");
          }
          return new Step(OrtTensors.floats(result, "logits"), present);
        },
        "batch " + batch + ", past " + past);
  }

  private <T> T run(
      OrtSession session,
      String graph,
      OrtTensors.Inputs in,
      OrtTensors.Outputs<T> out,
      String fallback) {
    return OrtTensors.run(session, manifest.modelVersion(), graph, in, out, fallback);
  }

  @Override
  protected void validate(GenerationBundle bundle) throws OrtException {
    T5Manifest.Text t = manifest.text();
    long h = t.hiddenSize();
    long n = t.numHeads();
    long d = t.headDim();
    String context = "manifest text.num_layers=" + t.numLayers();
    validatePrefix(bundle, context, h);
    GraphSignature enc = new GraphSignature(bundle.file(ENCODER), encoder, context);
    enc.input("inputs_embeds", OnnxJavaType.FLOAT, ANY, ANY, h);
    enc.input("attention_mask", OnnxJavaType.INT64, ANY, ANY);
    for (int l = 0; l < t.numLayers(); l++) {
      enc.output("present." + l + ".encoder.key", OnnxJavaType.FLOAT, ANY, n, ANY, d);
      enc.output("present." + l + ".encoder.value", OnnxJavaType.FLOAT, ANY, n, ANY, d);
    }
    enc.noOtherInputs();

    GraphSignature dec = new GraphSignature(bundle.file(DECODER), decoder, context);
    dec.input("inputs_embeds", OnnxJavaType.FLOAT, ANY, ANY, h);
    dec.input("attention_mask", OnnxJavaType.INT64, ANY, ANY);
    dec.input("encoder_attention_mask", OnnxJavaType.INT64, ANY, ANY);
    dec.output("logits", OnnxJavaType.FLOAT, ANY, 1, t.vocabSize());
    for (int l = 0; l < t.numLayers(); l++) {
      for (String kind : new String[] {"decoder", "encoder"}) {
        for (String part : new String[] {"key", "value"}) {
          dec.input(
              "past_key_values." + l + "." + kind + "." + part, OnnxJavaType.FLOAT, ANY, n, ANY, d);
        }
      }
      dec.output("present." + l + ".decoder.key", OnnxJavaType.FLOAT, ANY, n, ANY, d);
      dec.output("present." + l + ".decoder.value", OnnxJavaType.FLOAT, ANY, n, ANY, d);
    }
    dec.noOtherInputs();
  }
}
