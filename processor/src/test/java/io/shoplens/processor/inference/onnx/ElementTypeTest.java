package io.shoplens.processor.inference.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import io.shoplens.processor.inference.bundle.Dtype;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class ElementTypeTest {
  private static final OrtEnvironment ENV = OrtRuntime.environment();

  @Test
  void shouldMapEachManifestDtypeToItsOnnxTypeAndSize() {
    assertThat(ElementType.of(Dtype.FLOAT32).onnxType()).isEqualTo(OnnxJavaType.FLOAT);
    assertThat(ElementType.of(Dtype.FLOAT16).onnxType()).isEqualTo(OnnxJavaType.FLOAT16);
    for (Dtype d : Dtype.values()) {
      assertThat(ElementType.of(d).bytes()).isEqualTo(d.bytes());
    }
  }

  @Test
  void givenFloatsWhenMadeAFloat16TensorThenTheyAreRoundedToNearestEvenAsNumpyDoes()
      throws Exception {
    // Given values between float16 steps: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 (ties go
    // to the even 1), 1 + 3 * 2^-11 halfway between 1 + 2^-10 and 1 + 2^-9 (ties go up, to even)
    float[] values = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f, 0.1f, -2.5f, 70000f};

    // When written to a float16 tensor and read back
    try (OnnxTensor t = ElementType.FLOAT16.tensor(ENV, values, new long[] {values.length})) {
      assertThat(t.getInfo().type).isEqualTo(OnnxJavaType.FLOAT16);
      float[] back = ElementType.FLOAT16.floats(t);

      // Then (numpy: np.float32(x).astype(np.float16))
      assertThat(back)
          .containsExactly(1f, 1f + 0x1p-9f, 0.099975586f, -2.5f, Float.POSITIVE_INFINITY);
    }
  }

  @Test
  void givenFloatsWhenMadeAFloat32TensorThenTheyAreUnchanged() throws Exception {
    float[] values = {1f + 0x1p-11f, 0.1f, -2.5f};

    try (OnnxTensor t = ElementType.FLOAT32.tensor(ENV, values, new long[] {values.length})) {
      assertThat(t.getInfo().type).isEqualTo(OnnxJavaType.FLOAT);
      assertThat(ElementType.FLOAT32.floats(t)).containsExactly(values);
    }
  }

  @Test
  void shouldWriteAndReadBackDirectBuffersAtElementOffsets() {
    for (ElementType type : ElementType.values()) {
      ByteBuffer buffer = type.allocate(6);
      float[] values = {0.5f, -1.25f, 3f};

      type.write(values, 0, buffer, 2, 3);
      float[] back = new float[5];
      type.read(buffer, 1, back, 1, 4);

      assertThat(back).as(type.name()).containsExactly(0f, 0f, 0.5f, -1.25f, 3f);
    }
  }
}
