package io.shoplens.processor.app.gateway;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The searches this gateway instance knows: those it published and is waiting for, and every {@code
 * ProductSearchResults} its feed read (so that {@code GET /v1/search/{id}} works on any instance).
 * Bounded like the {@link ResultsView}: at most {@code maxSearches} (oldest dropped first), each
 * for {@code ttl} after it was asked for or answered; a dropped search reads as unknown.
 * Thread-safe: the feed thread completes, HTTP threads wait and read.
 */
final class SearchView {
  private final Clock clock;
  private final Duration ttl;
  private final int maxSearches;
  // Insertion-ordered, so the eldest entry is the first to drop when full.
  private final LinkedHashMap<String, Entry> searches = new LinkedHashMap<>();

  /** A search: its results once they arrived (as JSON), and when it was last touched. */
  private static final class Entry {
    final CompletableFuture<ObjectNode> results = new CompletableFuture<>();
    long touchedAt;

    Entry(long now) {
      touchedAt = now;
    }
  }

  SearchView(Clock clock, Duration ttl, int maxSearches) {
    this.clock = clock;
    this.ttl = ttl;
    this.maxSearches = maxSearches;
  }

  /**
   * A search is about to be published: the returned future completes with its results when the feed
   * reads them. Register before publishing, so that a quick answer is not missed. Callers that wait
   * with a timeout must wait on a {@link CompletableFuture#copy() copy}.
   */
  synchronized CompletableFuture<ObjectNode> expect(String requestId) {
    return entry(requestId).results;
  }

  /** The search was not published after all. */
  synchronized void forget(String requestId) {
    searches.remove(requestId);
  }

  /** Results arrived for {@code requestId}; a replayed duplicate keeps the first. */
  synchronized void answered(String requestId, ObjectNode results) {
    entry(requestId).results.complete(results);
  }

  /** The search's results (done or still pending); empty when it is unknown here. */
  synchronized Optional<CompletableFuture<ObjectNode>> get(String requestId) {
    expire();
    Entry e = searches.get(requestId);
    return e == null ? Optional.empty() : Optional.of(e.results.copy());
  }

  synchronized int size() {
    return searches.size();
  }

  private Entry entry(String requestId) {
    expire();
    long now = clock.millis();
    Entry e = searches.computeIfAbsent(requestId, id -> new Entry(now));
    e.touchedAt = now;
    while (searches.size() > maxSearches) {
      Iterator<Map.Entry<String, Entry>> it = searches.entrySet().iterator();
      it.next();
      it.remove();
    }
    return e;
  }

  private void expire() {
    long oldest = clock.millis() - ttl.toMillis();
    searches.values().removeIf(e -> e.touchedAt < oldest);
  }
}
