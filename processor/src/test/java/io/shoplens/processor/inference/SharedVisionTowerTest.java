package io.shoplens.processor.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.shoplens.processor.inference.bundle.GenerationManifest;
import io.shoplens.processor.inference.bundle.ModelBundle;
import io.shoplens.processor.inference.bundle.VisionTower;
import io.shoplens.processor.inference.retrieval.ImageFeatures;
import io.shoplens.processor.inference.retrieval.RetrievalBundle;
import io.shoplens.processor.inference.retrieval.RetrievalModel;
import io.shoplens.processor.inference.retrieval.RetrievalService;
import io.shoplens.processor.inference.retrieval.VisionSharing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One vision tower pass per image for a generation bundle and a retrieval bundle with the same
 * tower (tiny-blip2-opt and tiny-blip2-retrieval: both tiny presets build their tower from the same
 * seed, which model-export checks when it writes the fixtures), and the reasons sharing is refused.
 */
class SharedVisionTowerTest {
  private static final Path RETRIEVAL = Path.of("src/test/resources/models/tiny-blip2-retrieval");
  private static final double TOL = 1e-5;
  private static final List<String> IMAGES = List.of("photo.jpg", "alpha.png", "wide.png");
  private static final EngineConfig CONFIG =
      EngineConfig.builder()
          .intraOpThreads(1)
          .interOpThreads(1)
          .scheduler(EngineConfig.Scheduler.STATIC)
          .build();

  @TempDir Path tmp;

  @Test
  void shouldDeriveRetrievalFeaturesFromTheGenerationPassAsTheRetrievalBundleComputesThem() {
    // Given the generation model and the retrieval model with the same tower
    try (Blip2Model generation = Blip2Model.open(ModelBundle.load(TinyBundle.dir()), CONFIG);
        RetrievalModel retrieval = RetrievalModel.open(RETRIEVAL, CONFIG)) {
      List<float[]> pixels = new ArrayList<>();
      IMAGES.forEach(n -> pixels.add(TinyBundle.pixelValues(n)));
      List<String> keys = List.of("a", "b", "c");
      float[][] tower = new float[1][];

      // When the generation vision pass hands its tower output on, and image_features.onnx reads it
      List<float[]> queryEmbeds =
          generation.encodeImages(pixels, keys, (k, embeds) -> tower[0] = embeds);
      List<ImageFeatures> shared = retrieval.featuresFromTower(tower[0], IMAGES.size());

      // Then the features equal the retrieval bundle's own vision pass within 1e-5, and the
      // generation pass's query embeddings are those of its plain pass
      List<RetrievalModel.EncodedImage> own = retrieval.encodePixels(pixels);
      for (int i = 0; i < IMAGES.size(); i++) {
        assertClose(shared.get(i).vectors(), own.get(i).features().vectors(), IMAGES.get(i));
        assertClose(tower[0], i, own.get(i).patchEmbeds(), IMAGES.get(i) + " tower output");
      }
      List<float[]> plain = generation.encodeImages(pixels);
      for (int i = 0; i < IMAGES.size(); i++) {
        assertThat(queryEmbeds.get(i)).containsExactly(plain.get(i));
      }
    }
  }

  @Test
  void shouldRunTheVisionTowerOncePerUploadedImageWhenSharing() throws Exception {
    // Given an engine whose image passes are counted, and a retrieval service sharing its tower
    CountingModel counting =
        new CountingModel(Blip2Model.open(ModelBundle.load(TinyBundle.dir()), CONFIG));
    try (BatchingInferenceEngine engine = new BatchingInferenceEngine(counting, CONFIG);
        RetrievalService retrieval = RetrievalService.open(RETRIEVAL, CONFIG, 2, 16)) {
      VisionSharing sharing =
          VisionSharing.decide(generationManifest(), retrieval.model().manifest(), 16);
      assertThat(sharing.shared()).as(sharing.describe()).isTrue();
      assertThat(engine.attachVisionTap(retrieval.shareVision(engine))).isTrue();

      // When each image is captioned and its retrieval features asked for, at the same time, and
      // then asked for again
      List<CompletableFuture<?>> all = new ArrayList<>();
      List<CompletableFuture<ImageFeatures>> features = new ArrayList<>();
      for (String name : IMAGES) {
        byte[] bytes = imageBytes(name);
        all.add(
            engine.submit(
                GenerationRequest.caption(
                    name, bytes, DecodingOptions.greedy().withMaxNewTokens(2), 0)));
        CompletableFuture<ImageFeatures> f = retrieval.uploadImageFeatures(name, bytes);
        features.add(f);
        all.add(f);
      }
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      for (String name : IMAGES) {
        retrieval.uploadImageFeatures(name + "/again", imageBytes(name)).get(60, TimeUnit.SECONDS);
      }

      // Then the tower ran once per image, in the generation engine, and never in the retrieval
      // model; and the features are what the retrieval model's own pass computes
      assertThat(counting.towerImages.get()).isEqualTo(IMAGES.size());
      assertThat(retrieval.ownTowerImages()).isZero();
      assertThat(retrieval.sharedTowerImages()).isEqualTo(IMAGES.size());
      for (int i = 0; i < IMAGES.size(); i++) {
        ImageFeatures own =
            retrieval.model().encodeImages(List.of(imageBytes(IMAGES.get(i)))).get(0).features();
        assertClose(features.get(i).get().vectors(), own.vectors(), IMAGES.get(i));
      }
    }
  }

  @Test
  void shouldNotShareAndSayWhatEachImageCostsWhenTheTowerChecksumsDiffer() throws Exception {
    // Given a retrieval bundle whose tower checksum is another one
    String other = "0123456789ab".repeat(5) + "cdef";
    Path retrievalDir =
        copyWithManifest(
            RETRIEVAL,
            m -> {
              ((ObjectNode) m.get("vision_tower")).put("sha256", other);
              ((ObjectNode) m.get("retrieval")).put("vision_tower_sha256", other);
            });
    CountingModel counting =
        new CountingModel(Blip2Model.open(ModelBundle.load(TinyBundle.dir()), CONFIG));
    try (BatchingInferenceEngine engine = new BatchingInferenceEngine(counting, CONFIG);
        RetrievalService retrieval = RetrievalService.open(retrievalDir, CONFIG, 1, 16)) {

      // When sharing is decided
      VisionSharing sharing =
          VisionSharing.decide(generationManifest(), retrieval.model().manifest(), 16);

      // Then it is refused, with the reason and both towers' cost in the start-up line
      VisionTower tower = generationManifest().visionTower().orElseThrow();
      assertThat(sharing.shared()).isFalse();
      assertThat(sharing.describe())
          .startsWith("vision tower not shared: the vision towers differ (weights sha256 ")
          .contains(tower.sha256().substring(0, 12) + " in the generation bundle, ")
          .contains("0123456789ab in the retrieval bundle)")
          .contains("Each uploaded image costs two tower passes: generation ")
          .contains(" GFLOPs per image + retrieval ");

      // And an upload's features come from the retrieval model's own pass, not the engine's
      retrieval.uploadImageFeatures("u", imageBytes("photo.jpg")).get(60, TimeUnit.SECONDS);
      assertThat(retrieval.ownTowerImages()).isEqualTo(1);
      assertThat(retrieval.sharesVision()).isFalse();
      assertThat(counting.towerImages.get()).isZero();
    }
  }

  @Test
  void shouldRefuseSharingWithEveryReasonForOtherPreprocessingPrecisionOrAnOlderBundle()
      throws IOException {
    Path otherMean =
        copyWithManifest(
            RETRIEVAL,
            m -> ((ObjectNode) m.get("vision")).putArray("image_mean").add(0.5).add(0.5).add(0.5));
    RetrievalBundle shifted = RetrievalBundle.load(otherMean);
    RetrievalBundle same = RetrievalBundle.load(RETRIEVAL);

    VisionSharing preprocessing = VisionSharing.decide(generationManifest(), shifted.manifest(), 8);
    VisionSharing float16 =
        VisionSharing.decide(
            ModelBundle.load(Path.of("src/test/resources/models/tiny-blip2-opt-f16")).manifest(),
            same.manifest(),
            8);
    // tiny-blip2-opt-b was exported before vision_tower: it loads, and shares nothing
    VisionSharing older =
        VisionSharing.decide(
            ModelBundle.load(Path.of("src/test/resources/models/tiny-blip2-opt-b")).manifest(),
            same.manifest(),
            8);
    VisionSharing noCache = VisionSharing.decide(generationManifest(), same.manifest(), 0);

    assertThat(preprocessing.shared()).isFalse();
    assertThat(preprocessing.reasons())
        .singleElement()
        .asString()
        .startsWith("images are preprocessed differently (image_mean [")
        .contains("for generation, [0.5, 0.5, 0.5] for retrieval");
    assertThat(float16.reasons())
        .singleElement()
        .asString()
        .contains("the tower runs in float16 in the generation bundle and in float32");
    assertThat(older.reasons())
        .singleElement()
        .asString()
        .contains("does not describe its vision tower");
    assertThat(older.describe()).contains("generation GFLOPs unknown");
    assertThat(noCache.reasons())
        .singleElement()
        .asString()
        .contains("shoplens.retrieval.cache.size is 0");
  }

  @Test
  void shouldCountTheVisionTowersFloatingPointOperationsFromItsShapes() {
    // BLIP-2's EVA ViT-g at 224 px: 16 x 16 patches of 14 px, 1408 wide, MLP 6144, 39 layers.
    VisionTower vitG =
        new VisionTower("0".repeat(64), "image_embeds", "float32", 224, 14, 257, 1408, 6144, 39);
    double patchEmbedding = 2.0 * 256 * 3 * 14 * 14 * 1408;
    double layer = 8.0 * 257 * 1408 * 1408 + 4.0 * 257 * 257 * 1408 + 4.0 * 257 * 1408 * 6144;

    assertThat(vitG.gflopsPerImage()).isCloseTo((patchEmbedding + 39 * layer) / 1e9, within(1e-9));
    assertThat(vitG.gflopsPerImage()).isBetween(515.0, 525.0);
    assertThat(vitG.outputBytesPerImage()).isEqualTo(257L * 1408 * 4);
  }

  private static GenerationManifest generationManifest() {
    return ModelBundle.load(TinyBundle.dir()).manifest();
  }

  private static byte[] imageBytes(String name) throws IOException {
    return Files.readAllBytes(TinyBundle.images().resolve(name));
  }

  private Path copyWithManifest(Path bundle, Consumer<ObjectNode> edit) throws IOException {
    Path dir = tmp.resolve(bundle.getFileName() + "-edited");
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(bundle)) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode manifest = (ObjectNode) json.readTree(dir.resolve("manifest.json").toFile());
    edit.accept(manifest);
    json.writeValue(dir.resolve("manifest.json").toFile(), manifest);
    return dir;
  }

  private static void assertClose(float[] actual, float[] expected, String what) {
    assertThat(actual).as(what).hasSameSizeAs(expected);
    for (int k = 0; k < actual.length; k++) {
      assertThat((double) actual[k]).as(what + "[" + k + "]").isCloseTo(expected[k], within(TOL));
    }
  }

  /** Compares image {@code i} of a batched [n, P, Hv] array with one image's [P, Hv]. */
  private static void assertClose(float[] batch, int i, float[] expected, String what) {
    float[] one = new float[expected.length];
    System.arraycopy(batch, i * expected.length, one, 0, expected.length);
    assertClose(one, expected, what);
  }

  /** A model that counts the images its vision graph (and so its tower) encodes. */
  private static final class CountingModel extends ForwardingEngineModel {
    final AtomicInteger towerImages = new AtomicInteger();

    CountingModel(Blip2Model delegate) {
      super(delegate);
    }

    @Override
    public List<float[]> encodeImages(List<float[]> pixels) {
      towerImages.addAndGet(pixels.size());
      return delegate.encodeImages(pixels);
    }

    @Override
    public boolean exposesTower() {
      return delegate.exposesTower();
    }

    @Override
    public List<float[]> encodeImages(List<float[]> pixels, List<String> keys, VisionTap tap) {
      towerImages.addAndGet(pixels.size());
      return delegate.encodeImages(pixels, keys, tap);
    }
  }
}
