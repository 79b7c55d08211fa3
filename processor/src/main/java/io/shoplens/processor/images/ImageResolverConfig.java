package io.shoplens.processor.images;

import static io.shoplens.processor.options.OptionChecks.atLeast;
import static io.shoplens.processor.options.OptionChecks.positive;
import static io.shoplens.processor.options.OptionChecks.require;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@link HttpImageResolver} accepts and how long it waits. Validated on construction; start
 * from {@link #builder()} (the {@link #defaults()}) or {@link #toBuilder()} to change single
 * settings.
 *
 * <p>The defaults are closed: no host is allow-listed (every reference is refused until {@link
 * Builder#allowedHosts(List)} names some), only https, no loopback or private addresses.
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
@RecordBuilder
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

  /**
   * 900,000 bytes. The image travels inside a record whose other fields, key, headers and batch
   * framing need room too, and that record must fit where Kafka's defaults stop at 1 MiB: the
   * storefront's producer ({@code max.request.size} 1,048,576), and the topics ShopLens does not
   * create itself (the changelog of the uploads store). {@code shoplens topics create} gives the
   * uploads and dead-letter topics {@code max.message.bytes} 2 MiB, so that an inline image at this
   * limit is also accepted there when it comes back wrapped in a dead letter.
   */
  public static final long DEFAULT_MAX_INLINE_BYTES = 900_000L;

  /** 20 MiB: a generous product photo; the model sees it downscaled anyway. */
  public static final long DEFAULT_MAX_FETCH_BYTES = 20L * 1024 * 1024;

  public ImageResolverConfig {
    Objects.requireNonNull(allowedHosts, "allowedHosts");
    atLeast("maxInlineBytes", maxInlineBytes, 1);
    atLeast("maxFetchBytes", maxFetchBytes, 1);
    // The body is collected in one byte[].
    require(
        maxFetchBytes <= Integer.MAX_VALUE - 8,
        "maxFetchBytes must be < 2 GiB, got " + maxFetchBytes);
    atLeast("maxRedirects", maxRedirects, 0);
    positive("connectTimeout", connectTimeout);
    positive("readTimeout", readTimeout);
    positive("totalTimeout", totalTimeout);
    atLeast("fetchThreads", fetchThreads, 1);
    atLeast("maxQueuedFetches", maxQueuedFetches, 1);
    allowedHosts = allowedHosts.stream().map(ImageResolverConfig::normalizePattern).toList();
  }

  /**
   * No allow-listed host, https only, public addresses only, 900,000 bytes inline, 20 MiB fetched,
   * 3 redirects, 2 s connect, 5 s read, 15 s in all, 4 fetch threads with 256 queued.
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

  /** A builder starting from {@link #defaults()}. */
  public static ImageResolverConfigBuilder builder() {
    return ImageResolverConfigBuilder.builder(defaults());
  }

  /** A builder starting from this configuration. */
  public ImageResolverConfigBuilder toBuilder() {
    return ImageResolverConfigBuilder.builder(this);
  }
}
