package io.shoplens.processor.inference.retrieval;

import io.shoplens.processor.inference.bundle.GenerationManifest;
import io.shoplens.processor.inference.bundle.ModelManifest;
import io.shoplens.processor.inference.bundle.VisionTower;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether a generation bundle and a retrieval bundle share one vision tower pass per image, and
 * what each image costs either way (docs/model-bundle.md, "One vision tower for generation and
 * retrieval").
 *
 * <p>They share when the tower's output of the generation vision pass is exactly what the retrieval
 * bundle's own vision graph would compute: the same tower weights ({@code vision_tower.sha256}),
 * computed at the same precision, on pixels preprocessed the same way (size, resampling, rescale,
 * mean and std), and the retrieval bundle can take that output in ({@code image_features.onnx}).
 * Anything less would change the retrieval features, so it is refused with every reason named
 * rather than shared approximately.
 *
 * @param shared whether uploads run the vision tower once for both models
 * @param reasons why not (empty when shared)
 * @param generationTower the generation bundle's tower, when its manifest describes it
 * @param retrievalTower the retrieval bundle's tower, when its manifest describes it
 */
public record VisionSharing(
    boolean shared,
    List<String> reasons,
    Optional<VisionTower> generationTower,
    Optional<VisionTower> retrievalTower) {

  public VisionSharing {
    reasons = List.copyOf(reasons);
  }

  /**
   * Decides for one pair of bundles.
   *
   * @param retrievalCacheSize the retrieval engine's image cache: the features the generation pass
   *     computes wait there for the retrieval request, so 0 makes sharing impossible
   */
  public static VisionSharing decide(
      GenerationManifest generation, RetrievalManifest retrieval, int retrievalCacheSize) {
    List<String> why = new ArrayList<>();
    Optional<VisionTower> g = generation.visionTower();
    Optional<VisionTower> r = retrieval.visionTower();
    if (g.isEmpty()) {
      why.add(
          "the generation bundle "
              + generation.modelVersion()
              + " does not describe its vision tower (no vision_tower in its manifest: exported"
              + " before it; re-export it with shoplens_export export)");
    }
    if (r.isEmpty() || !retrieval.hasImageFeaturesGraph()) {
      why.add(
          "the retrieval bundle "
              + retrieval.modelVersion()
              + " has no "
              + (r.isEmpty() ? "vision_tower in its manifest" : RetrievalBundle.IMAGE_FEATURES)
              + " (exported before it; re-export it with shoplens_export export --retrieval)");
    }
    if (g.isPresent() && r.isPresent()) {
      VisionTower a = g.get();
      VisionTower b = r.get();
      if (!a.sha256().equals(b.sha256())) {
        why.add(
            "the vision towers differ (weights sha256 "
                + shortSha(a)
                + " in the generation bundle, "
                + shortSha(b)
                + " in the retrieval bundle)");
      } else if (a.numPatches() != b.numPatches() || a.hiddenSize() != b.hiddenSize()) {
        why.add(
            "the tower outputs differ in shape: ["
                + a.numPatches()
                + ", "
                + a.hiddenSize()
                + "] against ["
                + b.numPatches()
                + ", "
                + b.hiddenSize()
                + "]");
      }
      if (!a.precision().equals(b.precision())) {
        why.add(
            "the tower runs in "
                + a.precision()
                + " in the generation bundle and in "
                + b.precision()
                + " in the retrieval bundle, so its outputs differ");
      }
    }
    String preprocessing = preprocessingDifference(generation.vision(), retrieval.vision());
    if (preprocessing != null) {
      why.add("images are preprocessed differently (" + preprocessing + ")");
    }
    if (retrievalCacheSize <= 0) {
      why.add(
          "shoplens.retrieval.cache.size is 0: the features computed in the generation pass have"
              + " nowhere to wait for the retrieval request");
    }
    return new VisionSharing(why.isEmpty(), why, g, r);
  }

  /**
   * One line for the start-up log: whether the tower is shared, why not, and what each uploaded
   * image costs in vision tower work.
   */
  public String describe() {
    if (shared) {
      return "vision tower shared by the generation and retrieval models (weights sha256 "
          + shortSha(generationTower.orElseThrow())
          + "): one tower pass per uploaded image, "
          + gflops(generationTower)
          + "; retrieval features come from the generation pass through "
          + RetrievalBundle.IMAGE_FEATURES;
    }
    return "vision tower not shared: "
        + String.join("; ", reasons)
        + ". Each uploaded image costs two tower passes: generation "
        + gflops(generationTower)
        + " + retrieval "
        + gflops(retrievalTower)
        + " (catalog images only the retrieval one)";
  }

  private static String gflops(Optional<VisionTower> tower) {
    return tower
        .map(t -> String.format(Locale.ROOT, "%.3g GFLOPs per image", t.gflopsPerImage()))
        .orElse("GFLOPs unknown (no vision_tower in the manifest)");
  }

  private static String shortSha(VisionTower t) {
    return t.sha256().substring(0, 12);
  }

  /** What differs between two preprocessing descriptions, in words; null when nothing does. */
  private static String preprocessingDifference(ModelManifest.Vision a, ModelManifest.Vision b) {
    List<String> d = new ArrayList<>();
    differ(d, "image_size", a.imageSize(), b.imageSize());
    differ(d, "resample", a.resample(), b.resample());
    differ(d, "do_rescale", a.doRescale(), b.doRescale());
    differ(d, "rescale_factor", a.rescaleFactor(), b.rescaleFactor());
    differ(d, "do_normalize", a.doNormalize(), b.doNormalize());
    differ(d, "image_mean", a.imageMean(), b.imageMean());
    differ(d, "image_std", a.imageStd(), b.imageStd());
    differ(d, "do_convert_rgb", a.doConvertRgb(), b.doConvertRgb());
    return d.isEmpty() ? null : String.join(", ", d);
  }

  private static void differ(List<String> out, String field, Object generation, Object retrieval) {
    if (!generation.equals(retrieval)) {
      out.add(field + " " + generation + " for generation, " + retrieval + " for retrieval");
    }
  }
}
