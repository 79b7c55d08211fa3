package io.shoplens.processor.inference.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.platform.Fp16Conversions;
import io.shoplens.processor.inference.bundle.Dtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * How a bundle's float tensors cross the ONNX Runtime boundary: the one place that knows whether
 * they are float32 or float16. Java code around the graphs works on {@code float[]} either way;
 * float16 values are widened when read (exact) and narrowed when written, with
 * round-to-nearest-even as numpy's {@code astype(np.float16)} does (ONNX Runtime's {@link
 * Fp16Conversions}). Values that came out of a float16 graph (embeddings, query embeddings) go back
 * in unchanged, so a float16 bundle sees in Java what it sees in Python ONNX Runtime. The KV cache
 * stays in the graph's own type in direct buffers, never converted.
 *
 * <p>{@link #FLOAT32} creates exactly the tensors the engine created before float16 existed (float
 * buffers, no conversion).
 */
public enum ElementType {
  /** float32 tensors from {@link FloatBuffer}s. */
  FLOAT32(OnnxJavaType.FLOAT, Float.BYTES) {
    @Override
    public OnnxTensor tensor(OrtEnvironment env, float[] values, long[] shape) throws OrtException {
      return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
    }

    @Override
    public OnnxTensor tensor(OrtEnvironment env, ByteBuffer direct, long[] shape)
        throws OrtException {
      return OnnxTensor.createTensor(env, nativeOrder(direct).asFloatBuffer(), shape);
    }

    @Override
    public float[] floats(OnnxTensor tensor) {
      FloatBuffer buffer = tensor.getFloatBuffer();
      float[] out = new float[buffer.remaining()];
      buffer.get(out);
      return out;
    }

    @Override
    public void read(ByteBuffer src, int srcIndex, float[] dst, int dstIndex, int count) {
      nativeOrder(src).asFloatBuffer().get(srcIndex, dst, dstIndex, count);
    }

    @Override
    public void write(float[] src, int srcIndex, ByteBuffer dst, int dstIndex, int count) {
      nativeOrder(dst).asFloatBuffer().put(dstIndex, src, srcIndex, count);
    }
  },

  /** float16 tensors from {@link ShortBuffer}s of IEEE half-precision bits. */
  FLOAT16(OnnxJavaType.FLOAT16, Short.BYTES) {
    @Override
    public OnnxTensor tensor(OrtEnvironment env, float[] values, long[] shape) throws OrtException {
      short[] half = new short[values.length];
      for (int i = 0; i < values.length; i++) {
        half[i] = Fp16Conversions.floatToFp16(values[i]);
      }
      return OnnxTensor.createTensor(env, ShortBuffer.wrap(half), shape, OnnxJavaType.FLOAT16);
    }

    @Override
    public OnnxTensor tensor(OrtEnvironment env, ByteBuffer direct, long[] shape)
        throws OrtException {
      return OnnxTensor.createTensor(
          env, nativeOrder(direct).asShortBuffer(), shape, OnnxJavaType.FLOAT16);
    }

    @Override
    public float[] floats(OnnxTensor tensor) {
      ShortBuffer buffer = tensor.getShortBuffer();
      float[] out = new float[buffer.remaining()];
      for (int i = 0; i < out.length; i++) {
        out[i] = Fp16Conversions.fp16ToFloat(buffer.get(i));
      }
      return out;
    }

    @Override
    public void read(ByteBuffer src, int srcIndex, float[] dst, int dstIndex, int count) {
      ShortBuffer half = nativeOrder(src).asShortBuffer();
      for (int i = 0; i < count; i++) {
        dst[dstIndex + i] = Fp16Conversions.fp16ToFloat(half.get(srcIndex + i));
      }
    }

    @Override
    public void write(float[] src, int srcIndex, ByteBuffer dst, int dstIndex, int count) {
      ShortBuffer half = nativeOrder(dst).asShortBuffer();
      for (int i = 0; i < count; i++) {
        half.put(dstIndex + i, Fp16Conversions.floatToFp16(src[srcIndex + i]));
      }
    }
  };

  private final OnnxJavaType onnxType;
  private final int bytes;

  ElementType(OnnxJavaType onnxType, int bytes) {
    this.onnxType = onnxType;
    this.bytes = bytes;
  }

  /** The element type of a bundle of {@code dtype}. */
  public static ElementType of(Dtype dtype) {
    return switch (dtype) {
      case FLOAT32 -> FLOAT32;
      case FLOAT16 -> FLOAT16;
    };
  }

  /** What ONNX Runtime reports for a graph input or output of this type. */
  public OnnxJavaType onnxType() {
    return onnxType;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** A tensor holding {@code values} (narrowed to this type), shaped {@code shape}. */
  public abstract OnnxTensor tensor(OrtEnvironment env, float[] values, long[] shape)
      throws OrtException;

  /**
   * A tensor over a native-order direct buffer, without copying: ONNX Runtime reads it as an input
   * or writes it as a pinned output. {@code direct}'s position and limit bound the tensor's bytes.
   */
  public abstract OnnxTensor tensor(OrtEnvironment env, ByteBuffer direct, long[] shape)
      throws OrtException;

  /** A tensor of this type's values, widened to float. */
  public abstract float[] floats(OnnxTensor tensor);

  /** Copies {@code count} elements from index {@code srcIndex} of {@code src}, widened to float. */
  public abstract void read(ByteBuffer src, int srcIndex, float[] dst, int dstIndex, int count);

  /** Writes {@code count} floats, narrowed to this type, at element index {@code dstIndex}. */
  public abstract void write(float[] src, int srcIndex, ByteBuffer dst, int dstIndex, int count);

  /** {@code buffer}'s bytes (position to limit) read in native order, as the graphs write them. */
  private static ByteBuffer nativeOrder(ByteBuffer buffer) {
    return buffer.duplicate().order(ByteOrder.nativeOrder());
  }

  /** A native-order direct buffer of {@code count} elements. */
  public ByteBuffer allocate(int count) {
    return ByteBuffer.allocateDirect(bytes * count).order(ByteOrder.nativeOrder());
  }
}
