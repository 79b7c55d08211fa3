package io.shoplens.processor.app.cli;

import io.shoplens.processor.app.config.ShopLensConfig;
import io.shoplens.processor.app.config.TopologySettings;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --upload-lookback} of the commands that read a window of the live topics ({@code replay},
 * {@code evaluate --replay}): how far before the window uploads are read for its questions, by
 * default as long as the live application keeps uploads. Used as a picocli {@code @Mixin}, so that
 * both read the same uploads for the same window.
 */
final class UploadLookbackOption {
  @Option(
      names = "--upload-lookback",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Also read uploads this long before --from (stored for the window's questions, not"
              + " captioned); default: shoplens.upload.retention.ms.")
  Duration uploadLookback;

  /** The lookback given, else the live application's upload retention. */
  Duration resolve(ShopLensConfig live) {
    return uploadLookback != null
        ? uploadLookback
        : Duration.ofMillis(live.getLong(TopologySettings.UPLOAD_RETENTION_MS.name()));
  }
}
