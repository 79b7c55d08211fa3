package io.shoplens.processor.app.replay;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * What a replay is asked to do. Validated on construction.
 *
 * @param from start of the window (inclusive): records whose timestamp is at or after it
 * @param to end of the window (exclusive), or null for "up to the end offsets seen at start"
 * @param uploadIds replay only uploads (and questions about them) with these ids; empty: all
 * @param modelPath the model bundle to replay with
 * @param applicationId the replay's Kafka Streams application id (its own consumer group, state and
 *     internal topics); must differ from the live application's
 * @param dryRun print the plan and exit without processing
 * @param uploadLookback how far before {@code from} uploads are read (stored, not captioned) so
 *     that questions in the window about earlier uploads can be answered
 * @param cacheSize most results kept by the result cache
 */
public record ReplayRequest(
    Instant from,
    Instant to,
    Set<String> uploadIds,
    Path modelPath,
    String applicationId,
    boolean dryRun,
    Duration uploadLookback,
    int cacheSize) {

  public ReplayRequest {
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(modelPath, "modelPath");
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(uploadLookback, "uploadLookback");
    uploadIds = Set.copyOf(uploadIds == null ? Set.of() : uploadIds);
    if (to != null && !to.isAfter(from)) {
      throw new IllegalArgumentException("--to (" + to + ") must be after --from (" + from + ")");
    }
    if (applicationId.isBlank()) {
      throw new IllegalArgumentException("--application-id must not be blank");
    }
    if (uploadLookback.isNegative()) {
      throw new IllegalArgumentException("upload lookback must not be negative");
    }
    if (cacheSize < 1) {
      throw new IllegalArgumentException("cache size must be >= 1, got " + cacheSize);
    }
  }
}
