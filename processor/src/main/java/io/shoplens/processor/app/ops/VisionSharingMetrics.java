package io.shoplens.processor.app.ops;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.shoplens.processor.inference.retrieval.RetrievalService;

/**
 * Whether the retrieval model shares the generation model's vision tower, and where each image's
 * tower pass ran:
 *
 * <ul>
 *   <li>{@code shoplens.retrieval.vision.shared}: 1 when uploads run the tower once for both
 *       models, 0 when each uploaded image costs two tower passes
 *   <li>{@code shoplens.retrieval.vision.tower.images{path}}: images whose retrieval features came
 *       from the generation pass's tower output ({@code shared}) or from the retrieval model's own
 *       vision graph ({@code own}: catalog images, and uploads when nothing is shared)
 * </ul>
 */
public final class VisionSharingMetrics implements MeterBinder {
  private final RetrievalService retrieval;

  /**
   * @param retrieval the retrieval engine whose counts are read at every scrape (held strongly)
   */
  public VisionSharingMetrics(RetrievalService retrieval) {
    this.retrieval = retrieval;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("shoplens.retrieval.vision.shared", retrieval, r -> r.sharesVision() ? 1.0 : 0.0)
        .description("1 when the retrieval model takes the generation model's vision tower output")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder(
            "shoplens.retrieval.vision.tower.images",
            retrieval,
            r -> (double) r.sharedTowerImages())
        .description("Images whose retrieval features came from a tower pass, by where it ran")
        .tags("path", "shared")
        .register(registry);
    FunctionCounter.builder(
            "shoplens.retrieval.vision.tower.images", retrieval, r -> (double) r.ownTowerImages())
        .description("Images whose retrieval features came from a tower pass, by where it ran")
        .tags("path", "own")
        .register(registry);
  }
}
