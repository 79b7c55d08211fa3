package io.shoplens.processor.app.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shoplens.processor.app.ops.VisionSharingMetrics;
import io.shoplens.processor.inference.BatchingInferenceEngine;
import io.shoplens.processor.inference.EngineConfig;
import io.shoplens.processor.inference.GenerationBundles;
import io.shoplens.processor.inference.bundle.GenerationBundle;
import io.shoplens.processor.inference.retrieval.RetrievalService;
import io.shoplens.processor.inference.retrieval.VisionSharing;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What the application says at start-up about the vision tower, and the gauge that says it at run
 * time: shared for tiny-blip2-opt with tiny-blip2-retrieval (same tower), not shared for
 * tiny-blip2-opt-b (exported before vision_tower).
 */
class VisionSharingStartupTest {
  private static final Path MODELS = Path.of("src/test/resources/models");
  private static final EngineConfig CONFIG =
      EngineConfig.builder().intraOpThreads(1).interOpThreads(1).build();

  private final ListAppender<ILoggingEvent> log = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(ShopLensApplication.class);

  @BeforeEach
  void captureLog() {
    log.start();
    logger.addAppender(log);
  }

  @AfterEach
  void releaseLog() {
    logger.detachAppender(log);
  }

  @Test
  void shouldShareTheTowerAndSaySoWhenTheBundlesRunTheSameTower() {
    run(
        "tiny-blip2-opt",
        (sharing, retrieval, registry) -> {
          assertThat(sharing.shared()).isTrue();
          assertThat(retrieval.sharesVision()).isTrue();
          assertThat(line(Level.INFO))
              .startsWith("vision tower shared by the generation and retrieval models (weights")
              .contains("one tower pass per uploaded image");
          assertThat(registry.get("shoplens.retrieval.vision.shared").gauge().value())
              .isEqualTo(1.0);
        });
  }

  @Test
  void shouldWarnWhatEachImageCostsWhenTheGenerationBundleDoesNotDescribeItsTower() {
    run(
        "tiny-blip2-opt-b",
        (sharing, retrieval, registry) -> {
          assertThat(sharing.shared()).isFalse();
          assertThat(retrieval.sharesVision()).isFalse();
          assertThat(line(Level.WARN))
              .startsWith("vision tower not shared: the generation bundle tiny-blip2-opt-s4321-")
              .contains("Each uploaded image costs two tower passes: generation GFLOPs unknown")
              .contains(" + retrieval ");
          assertThat(registry.get("shoplens.retrieval.vision.shared").gauge().value())
              .isEqualTo(0.0);
          assertThat(
                  registry
                      .get("shoplens.retrieval.vision.tower.images")
                      .tag("path", "own")
                      .functionCounter()
                      .count())
              .isZero();
        });
  }

  private interface Check {
    void accept(VisionSharing sharing, RetrievalService retrieval, SimpleMeterRegistry registry);
  }

  private void run(String generationBundle, Check check) {
    GenerationBundle bundle = GenerationBundles.load(MODELS.resolve(generationBundle));
    try (BatchingInferenceEngine engine =
            BatchingInferenceEngine.start(bundle.directory(), CONFIG);
        RetrievalService retrieval =
            RetrievalService.open(MODELS.resolve("tiny-blip2-retrieval"), CONFIG, 1, 8)) {
      VisionSharing sharing =
          ShopLensApplication.shareVision(bundle.manifest(), engine, retrieval, 8);
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      new VisionSharingMetrics(retrieval).bindTo(registry);
      check.accept(sharing, retrieval, registry);
    }
  }

  private String line(Level level) {
    List<String> lines =
        log.list.stream()
            .filter(
                e -> e.getLevel() == level && e.getFormattedMessage().startsWith("vision tower"))
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    assertThat(lines).hasSize(1);
    return lines.get(0);
  }
}
