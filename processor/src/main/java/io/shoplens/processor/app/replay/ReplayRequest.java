package io.shoplens.processor.app.replay;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.notBlank;
import static io.shoplens.processor.options.OptionChecks.notNegative;
import static io.shoplens.processor.options.OptionChecks.require;

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
    uploadIds = Set.copyOf(uploadIds == null ? Set.of() : uploadIds);
    require(
        to == null || to.isAfter(from), "--to (" + to + ") must be after --from (" + from + ")");
    notBlank("--application-id", applicationId);
    notNegative("upload lookback", uploadLookback);
    atLeast("cache size", cacheSize, 1);
  }
}
