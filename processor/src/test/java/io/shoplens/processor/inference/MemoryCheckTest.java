package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shoplens.processor.inference.bundle.Dtype;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MemoryCheckTest {
  private static final long GIB = 1L << 30;
  private static final Path F16 = Path.of("src/test/resources/models/tiny-blip2-opt-f16");

  @TempDir Path temp;

  @Test
  void shouldEstimateWeightsFromTheGraphFilesAndKvFromTheBudgetAndDtype() {
    // Given the float32 and float16 fixtures of the same weights, and 4 rows of 100 positions
    ModelManifest f32 = ModelBundle.load(TinyBundle.dir()).manifest();
    ModelManifest f16 = ModelBundle.load(F16).manifest();
    EngineConfig config =
        EngineConfig.builder()
            .kvBudgetTokens(400)
            .prefixCacheBytes(1000)
            .visionCacheEntries(3)
            .build();

    // When estimated
    MemoryEstimate a = MemoryEstimate.of(f32, config);
    MemoryEstimate b = MemoryEstimate.of(f16, config);

    // Then weights are the graph files (not tokenizer.json), KV is layers x heads x head_dim x
    // 2 (keys, values) x dtype bytes per token, x 400 token rows, x 2 buffers
    ModelManifest.Text t = f32.text();
    long graphs =
        f32.files().get("vision.onnx").bytes()
            + f32.files().get("embed.onnx").bytes()
            + f32.files().get("decoder.onnx").bytes();
    assertThat(a.weightBytes()).isEqualTo(graphs);
    assertThat(a.kvBytesPerToken()).isEqualTo(2L * t.numLayers() * t.numHeads() * t.headDim() * 4);
    assertThat(a.kvBytes()).isEqualTo(2 * 400 * a.kvBytesPerToken());
    assertThat(b.kvBytes()).isEqualTo(a.kvBytes() / 2);
    assertThat(b.weightBytes()).isLessThan(a.weightBytes()).isGreaterThan(a.weightBytes() / 3);
    assertThat(a.visionCacheBytes()).isEqualTo(3L * f32.numQueryTokens() * t.hiddenSize() * 4);
    assertThat(a.totalBytes())
        .isEqualTo(a.weightBytes() + a.kvBytes() + 1000 + a.visionCacheBytes());
    assertThat(b.dtype()).isEqualTo(Dtype.FLOAT16);
  }

  @Test
  void givenTheDefaultBudgetThenKvCoversTheBatchAtFullLength() {
    ModelManifest m = ModelBundle.load(TinyBundle.dir()).manifest();
    EngineConfig config = EngineConfig.builder().maxBatchSize(3).build();

    MemoryEstimate e = MemoryEstimate.of(m, config);

    assertThat(e.kvTokens()).isEqualTo(3L * m.text().maxPositionEmbeddings());
  }

  @Test
  void givenTooLittleMemoryWhenCheckedThenTheRefusalSaysNeededAvailableAndWhatToChange() {
    // Given the float32 fixture and 1 KiB available
    ModelManifest m = ModelBundle.load(TinyBundle.dir()).manifest();
    EngineConfig config = EngineConfig.builder().memoryAvailableBytes(1024).build();
    MemoryEstimate needed = MemoryEstimate.of(m, config);

    // When checked, then refused with both figures, the parts and the settings to change
    assertThatThrownBy(() -> MemoryCheck.require(m, config))
        .isInstanceOf(EngineStartupException.class)
        .hasMessageContaining("not enough memory for model " + m.modelVersion())
        .hasMessageContaining("needs at least " + MemoryEstimate.human(needed.minimumBytes()))
        .hasMessageContaining("weights " + MemoryEstimate.human(needed.weightBytes()))
        .hasMessageContaining("available 1.0 KiB (as configured")
        .hasMessageContaining("--dtype float16")
        .hasMessageContaining("shoplens.inference.memory.check=false");
  }

  @Test
  void givenAFloat16BundleWhenRefusedThenFloat16IsNotSuggested() {
    ModelManifest m = ModelBundle.load(F16).manifest();
    EngineConfig config = EngineConfig.builder().memoryAvailableBytes(1024).build();

    assertThatThrownBy(() -> MemoryCheck.require(m, config))
        .isInstanceOf(EngineStartupException.class)
        .hasMessageContaining("(float16 graph files)")
        .hasMessageNotContaining("--dtype float16");
  }

  @Test
  void givenEnoughMemoryOrTheCheckOffWhenCheckedThenNothingIsRefused() {
    ModelManifest m = ModelBundle.load(TinyBundle.dir()).manifest();
    long needed = MemoryEstimate.of(m, EngineConfig.defaults()).totalBytes();

    MemoryCheck.require(m, EngineConfig.builder().memoryAvailableBytes(needed).build());
    MemoryCheck.require(
        m, EngineConfig.builder().memoryAvailableBytes(1).memoryCheck(false).build());
  }

  @Test
  void givenRoomForOneFullRowButNotTheWholeBudgetWhenCheckedThenItStarts() {
    // Given memory between the minimum (one full-length KV row) and the default budget's total
    ModelManifest m = ModelBundle.load(TinyBundle.dir()).manifest();
    MemoryEstimate e = MemoryEstimate.of(m, EngineConfig.defaults());
    long between = e.minimumBytes() + 1;
    assertThat(between).isLessThan(e.totalBytes());

    // When checked, then it starts (with a warning), and the budget that fits is what is left
    MemoryCheck.require(m, EngineConfig.builder().memoryAvailableBytes(between).build());
    assertThat(e.kvBudgetFitting(between))
        .isEqualTo((between - (e.totalBytes() - e.kvBytes())) / 2)
        .isGreaterThanOrEqualTo(e.rowTokens() * e.kvBytesPerToken());
    // but one byte below the minimum is refused
    assertThatThrownBy(
            () ->
                MemoryCheck.require(
                    m, EngineConfig.builder().memoryAvailableBytes(e.minimumBytes() - 1).build()))
        .isInstanceOf(EngineStartupException.class);
  }

  @Test
  void givenTooLittleMemoryWhenAModelIsOpenedThenItIsRefusedBeforeLoading() {
    EngineConfig config = EngineConfig.builder().memoryAvailableBytes(1024).build();

    assertThatThrownBy(() -> Blip2Model.open(TinyBundle.dir(), config))
        .isInstanceOf(EngineStartupException.class)
        .hasMessageContaining("not enough memory");
  }

  @Test
  void givenACgroupV2LimitBelowPhysicalMemoryThenAvailableIsTheLimitLessTheHeap()
      throws IOException {
    Files.writeString(temp.resolve("memory.max"), "4294967296\n");

    MemoryCheck.Available a = MemoryCheck.available(temp, 16 * GIB, GIB);

    assertThat(a.bytes()).isEqualTo(3 * GIB);
    assertThat(a.source())
        .contains("cgroup limit 4.0 GiB")
        .contains("memory.max")
        .contains("less the JVM's max heap 1.0 GiB");
  }

  @Test
  void givenNoCgroupLimitThenAvailableIsPhysicalMemoryLessTheHeap() throws IOException {
    Files.writeString(temp.resolve("memory.max"), "max\n");

    MemoryCheck.Available a = MemoryCheck.available(temp, 16 * GIB, 2 * GIB);

    assertThat(a.bytes()).isEqualTo(14 * GIB);
    assertThat(a.source()).startsWith("physical memory 16.0 GiB");
  }

  @Test
  void givenACgroupV1LimitThenItIsRead() throws IOException {
    Files.createDirectories(temp.resolve("memory"));
    Files.writeString(temp.resolve("memory").resolve("memory.limit_in_bytes"), "2147483648\n");

    assertThat(MemoryCheck.available(temp, 16 * GIB, GIB).bytes()).isEqualTo(GIB);
  }

  @Test
  void givenAHeapAsLargeAsTheMachineThenNothingIsAvailable() {
    assertThat(MemoryCheck.available(temp, 4 * GIB, 8 * GIB).bytes()).isZero();
  }

  @Test
  void shouldPrintBytesInBinaryUnits() {
    assertThat(MemoryEstimate.human(512)).isEqualTo("512 B");
    assertThat(MemoryEstimate.human(1536)).isEqualTo("1.5 KiB");
    assertThat(MemoryEstimate.human(256L << 20)).isEqualTo("256.0 MiB");
    assertThat(MemoryEstimate.human(7_730_000_000L)).isEqualTo("7.2 GiB");
  }
}
