package io.shoplens.processor.app.gateway;

import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Requests per client per minute, counted in fixed one-minute windows. Each instance counts alone:
 * behind a load balancer a client gets up to the limit on every instance it reaches.
 */
final class ClientRateLimiter {
  // Clients that stopped calling are dropped when the map grows past this, so it stays bounded.
  private static final int MAX_CLIENTS = 100_000;

  private final int perMinute;
  private final Clock clock;
  private final ConcurrentMap<String, Window> windows = new ConcurrentHashMap<>();

  private record Window(long minute, int count) {}

  /**
   * @param perMinute requests allowed per client per minute; 0 allows everything
   */
  ClientRateLimiter(int perMinute, Clock clock) {
    this.perMinute = perMinute;
    this.clock = clock;
  }

  /** Counts a request; false when the client is over its limit this minute. */
  boolean tryAcquire(String client) {
    if (perMinute == 0) {
      return true;
    }
    long minute = clock.millis() / 60_000;
    if (windows.size() > MAX_CLIENTS) {
      windows.values().removeIf(w -> w.minute() < minute);
    }
    Window w =
        windows.compute(
            client,
            (k, old) ->
                old == null || old.minute() != minute
                    ? new Window(minute, 1)
                    : new Window(minute, old.count() + 1));
    return w.count() <= perMinute;
  }
}
