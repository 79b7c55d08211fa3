package io.shoplens.processor.images;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@link HttpImageResolver} accepts and how long it waits. Validated on construction; start
 * from {@link #defaults()} and change single settings with the {@code with...} methods.
 *
 * <p>The defaults are closed: no host is allow-listed (every reference is refused until {@link
 * #withAllowedHosts} names some), only https, no loopback or private addresses.
 *
 * @param maxInlineBytes largest inline image accepted, in bytes
 * @param maxFetchBytes largest fetched image accepted, in bytes; counted while streaming
 * @param allowedHosts hosts that references may point to: exact names ({@code images.example.com},
 *     or an IP literal) or {@code *.suffix} patterns that match any name ending in {@code .suffix}
 *     (not the suffix itself); compared case-insensitively, without a trailing dot
 * @param allowHttp whether plain {@code http} references are fetched ({@code https} always is)
 * @param allowLoopback whether hosts may resolve to loopback addresses (127.0.0.0/8, ::1)
 * @param allowPrivateNetworks whether hosts may resolve to private (10/8, 172.16/12, 192.168/16,
 *     100.64/10, fc00::/7) or link-local (169.254/16, fe80::/10) addresses; multicast, unspecified
 *     and reserved addresses are always refused
 * @param maxRedirects most same-host redirects followed (0 follows none); redirects to another host
 *     are always refused
 * @param connectTimeout longest wait for a TCP connection
 * @param readTimeout longest wait for any single read (TLS handshake, headers, body)
 * @param totalTimeout longest a whole fetch (all redirects, headers and body) may take
 * @param fetchThreads threads that fetch references; the stream threads never block on I/O
 * @param maxQueuedFetches most references waiting for a fetch thread; more are refused as retriable
 */
public record ImageResolverConfig(
    long maxInlineBytes,
    long maxFetchBytes,
    List<String> allowedHosts,
    boolean allowHttp,
    boolean allowLoopback,
    boolean allowPrivateNetworks,
    int maxRedirects,
    Duration connectTimeout,
    Duration readTimeout,
    Duration totalTimeout,
    int fetchThreads,
    int maxQueuedFetches) {

  /** 1 MiB: Kafka's default message size limit leaves no room for larger inline images. */
  public static final long DEFAULT_MAX_INLINE_BYTES = 1024L * 1024;

  /** 20 MiB: a generous product photo; the model sees it downscaled anyway. */
  public static final long DEFAULT_MAX_FETCH_BYTES = 20L * 1024 * 1024;

  public ImageResolverConfig {
    Objects.requireNonNull(allowedHosts, "allowedHosts");
    Objects.requireNonNull(connectTimeout, "connectTimeout");
    Objects.requireNonNull(readTimeout, "readTimeout");
    Objects.requireNonNull(totalTimeout, "totalTimeout");
    require(maxInlineBytes >= 1, "maxInlineBytes must be >= 1, got " + maxInlineBytes);
    require(maxFetchBytes >= 1, "maxFetchBytes must be >= 1, got " + maxFetchBytes);
    // The body is collected in one byte[].
    require(
        maxFetchBytes <= Integer.MAX_VALUE - 8,
        "maxFetchBytes must be < 2 GiB, got " + maxFetchBytes);
    require(maxRedirects >= 0, "maxRedirects must be >= 0, got " + maxRedirects);
    requirePositive(connectTimeout, "connectTimeout");
    requirePositive(readTimeout, "readTimeout");
    requirePositive(totalTimeout, "totalTimeout");
    require(fetchThreads >= 1, "fetchThreads must be >= 1, got " + fetchThreads);
    require(maxQueuedFetches >= 1, "maxQueuedFetches must be >= 1, got " + maxQueuedFetches);
    allowedHosts = allowedHosts.stream().map(ImageResolverConfig::normalizePattern).toList();
  }

  /**
   * No allow-listed host, https only, public addresses only, 1 MiB inline, 20 MiB fetched, 3
   * redirects, 2 s connect, 5 s read, 15 s in all, 4 fetch threads with 256 queued.
   */
  public static ImageResolverConfig defaults() {
    return new ImageResolverConfig(
        DEFAULT_MAX_INLINE_BYTES,
        DEFAULT_MAX_FETCH_BYTES,
        List.of(),
        false,
        false,
        false,
        3,
        Duration.ofSeconds(2),
        Duration.ofSeconds(5),
        Duration.ofSeconds(15),
        4,
        256);
  }

  /** Whether {@code host} (already lower-case, without brackets or trailing dot) is allowed. */
  boolean hostAllowed(String host) {
    for (String pattern : allowedHosts) {
      if (pattern.startsWith("*.") ? host.endsWith(pattern.substring(1)) : host.equals(pattern)) {
        return true;
      }
    }
    return false;
  }

  /** Lower-case, no trailing dot, no IPv6 brackets: the form {@link #hostAllowed} compares. */
  static String normalizeHost(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  private static String normalizePattern(String pattern) {
    Objects.requireNonNull(pattern, "allowedHosts entry");
    String p = normalizeHost(pattern.strip());
    String name = p.startsWith("*.") ? p.substring(2) : p;
    // A bare "*" or "*.com"-style catch-all would defeat the allow-list: require a dotted suffix.
    require(
        !name.isEmpty()
            && !name.contains("*")
            && !name.contains("/")
            && !name.contains("@")
            && !name.startsWith(".")
            && (!p.startsWith("*.") || name.contains(".")),
        "allowedHosts entry must be a host name, an IP literal or *.domain.tld, got '"
            + pattern
            + "'");
    return p;
  }

  public ImageResolverConfig withMaxInlineBytes(long bytes) {
    return new ImageResolverConfig(
        bytes,
        maxFetchBytes,
        allowedHosts,
        allowHttp,
        allowLoopback,
        allowPrivateNetworks,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withMaxFetchBytes(long bytes) {
    return new ImageResolverConfig(
        maxInlineBytes,
        bytes,
        allowedHosts,
        allowHttp,
        allowLoopback,
        allowPrivateNetworks,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withAllowedHosts(String... hosts) {
    return withAllowedHosts(List.of(hosts));
  }

  public ImageResolverConfig withAllowedHosts(List<String> hosts) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        hosts,
        allowHttp,
        allowLoopback,
        allowPrivateNetworks,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withHttpAllowed(boolean allowed) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        allowedHosts,
        allowed,
        allowLoopback,
        allowPrivateNetworks,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withLoopbackAllowed(boolean allowed) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        allowedHosts,
        allowHttp,
        allowed,
        allowPrivateNetworks,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withPrivateNetworksAllowed(boolean allowed) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        allowedHosts,
        allowHttp,
        allowLoopback,
        allowed,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withMaxRedirects(int redirects) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        allowedHosts,
        allowHttp,
        allowLoopback,
        allowPrivateNetworks,
        redirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withTimeouts(Duration connect, Duration read, Duration total) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        allowedHosts,
        allowHttp,
        allowLoopback,
        allowPrivateNetworks,
        maxRedirects,
        connect,
        read,
        total,
        fetchThreads,
        maxQueuedFetches);
  }

  public ImageResolverConfig withFetchThreads(int threads, int maxQueued) {
    return new ImageResolverConfig(
        maxInlineBytes,
        maxFetchBytes,
        allowedHosts,
        allowHttp,
        allowLoopback,
        allowPrivateNetworks,
        maxRedirects,
        connectTimeout,
        readTimeout,
        totalTimeout,
        threads,
        maxQueued);
  }

  private static void requirePositive(Duration d, String name) {
    require(!d.isNegative() && !d.isZero(), name + " must be positive, got " + d);
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }
}
