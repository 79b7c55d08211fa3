package io.shoplens.processor.app.config;

import io.shoplens.processor.images.ImageResolverConfig;
import java.time.Duration;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/**
 * The images group: inline limits and which references may be fetched. Defaults are {@link
 * ImageResolverConfig#defaults()}'s; settings not listed here keep them.
 */
public final class ImageSettings {
  public static final String GROUP = "Images";

  // First: the defaults below read it during class initialisation.
  private static final ImageResolverConfig DEFAULTS = ImageResolverConfig.defaults();

  public static final String IMAGE_INLINE_MAX_BYTES_CONFIG = "shoplens.image.inline.max.bytes";
  public static final long IMAGE_INLINE_MAX_BYTES_DEFAULT = DEFAULTS.maxInlineBytes();
  public static final String IMAGE_INLINE_MAX_BYTES_DOC =
      "Largest image carried inside an upload event; larger ones are dead-lettered. Keep it under"
          + " the topic's max.message.bytes (shoplens topics create sets 2 MiB).";

  public static final String IMAGE_FETCH_MAX_BYTES_CONFIG = "shoplens.image.fetch.max.bytes";
  public static final long IMAGE_FETCH_MAX_BYTES_DEFAULT = DEFAULTS.maxFetchBytes();
  public static final String IMAGE_FETCH_MAX_BYTES_DOC =
      "Largest image fetched from a reference, counted while reading.";

  public static final String IMAGE_ALLOWED_HOSTS_CONFIG = "shoplens.image.allowed.hosts";
  public static final String IMAGE_ALLOWED_HOSTS_DEFAULT =
      String.join(",", DEFAULTS.allowedHosts());
  public static final String IMAGE_ALLOWED_HOSTS_DOC =
      "Hosts image references may be fetched from: exact names or IPs, or *.example.com for"
          + " subdomains. Empty: every reference is refused (inline images only).";

  public static final String IMAGE_ALLOW_HTTP_CONFIG = "shoplens.image.allow.http";
  public static final boolean IMAGE_ALLOW_HTTP_DEFAULT = DEFAULTS.allowHttp();
  public static final String IMAGE_ALLOW_HTTP_DOC =
      "Also fetch plain http references (https always is).";

  public static final String IMAGE_ALLOW_PRIVATE_NETWORKS_CONFIG =
      "shoplens.image.allow.private.networks";
  public static final boolean IMAGE_ALLOW_PRIVATE_NETWORKS_DEFAULT =
      DEFAULTS.allowPrivateNetworks();
  public static final String IMAGE_ALLOW_PRIVATE_NETWORKS_DOC =
      "Allow allow-listed hosts that resolve to loopback, private or link-local addresses (an"
          + " image store inside your network). Off, such fetches are refused (SSRF protection).";

  public static final String IMAGE_FETCH_TIMEOUT_MS_CONFIG = "shoplens.image.fetch.timeout.ms";
  public static final long IMAGE_FETCH_TIMEOUT_MS_DEFAULT = DEFAULTS.totalTimeout().toMillis();
  public static final String IMAGE_FETCH_TIMEOUT_MS_DOC =
      "Longest a whole fetch (redirects, headers and body) may take; connect ("
          + DEFAULTS.connectTimeout().toSeconds()
          + " s) and each read ("
          + DEFAULTS.readTimeout().toSeconds()
          + " s) are bounded as well.";

  public static final String IMAGE_FETCH_THREADS_CONFIG = "shoplens.image.fetch.threads";
  public static final int IMAGE_FETCH_THREADS_DEFAULT = DEFAULTS.fetchThreads();
  public static final String IMAGE_FETCH_THREADS_DOC =
      "Threads fetching image references (the stream threads never wait on the network).";

  private ImageSettings() {}

  static void define(SettingsDefiner d) {
    d.group(GROUP)
        .define(
            IMAGE_INLINE_MAX_BYTES_CONFIG,
            Type.LONG,
            IMAGE_INLINE_MAX_BYTES_DEFAULT,
            Range.atLeast(1),
            Importance.MEDIUM,
            IMAGE_INLINE_MAX_BYTES_DOC)
        .define(
            IMAGE_FETCH_MAX_BYTES_CONFIG,
            Type.LONG,
            IMAGE_FETCH_MAX_BYTES_DEFAULT,
            Range.between(1, Integer.MAX_VALUE - 8),
            Importance.MEDIUM,
            IMAGE_FETCH_MAX_BYTES_DOC)
        .define(
            IMAGE_ALLOWED_HOSTS_CONFIG,
            Type.LIST,
            IMAGE_ALLOWED_HOSTS_DEFAULT,
            null,
            Importance.MEDIUM,
            IMAGE_ALLOWED_HOSTS_DOC)
        .define(
            IMAGE_ALLOW_HTTP_CONFIG,
            Type.BOOLEAN,
            IMAGE_ALLOW_HTTP_DEFAULT,
            null,
            Importance.LOW,
            IMAGE_ALLOW_HTTP_DOC)
        .define(
            IMAGE_ALLOW_PRIVATE_NETWORKS_CONFIG,
            Type.BOOLEAN,
            IMAGE_ALLOW_PRIVATE_NETWORKS_DEFAULT,
            null,
            Importance.LOW,
            IMAGE_ALLOW_PRIVATE_NETWORKS_DOC)
        .define(
            IMAGE_FETCH_TIMEOUT_MS_CONFIG,
            Type.LONG,
            IMAGE_FETCH_TIMEOUT_MS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            IMAGE_FETCH_TIMEOUT_MS_DOC)
        .define(
            IMAGE_FETCH_THREADS_CONFIG,
            Type.INT,
            IMAGE_FETCH_THREADS_DEFAULT,
            Range.atLeast(1),
            Importance.LOW,
            IMAGE_FETCH_THREADS_DOC);
  }

  /**
   * The image resolver's settings. One switch allows loopback and private networks together;
   * connect and read time-outs keep the resolver's defaults but never exceed the total.
   */
  static ImageResolverConfig imageResolverConfig(ShopLensConfig c) {
    Duration total = Duration.ofMillis(c.getLong(IMAGE_FETCH_TIMEOUT_MS_CONFIG));
    boolean privateAllowed = c.getBoolean(IMAGE_ALLOW_PRIVATE_NETWORKS_CONFIG);
    return ImageResolverConfig.builder()
        .maxInlineBytes(c.getLong(IMAGE_INLINE_MAX_BYTES_CONFIG))
        .maxFetchBytes(c.getLong(IMAGE_FETCH_MAX_BYTES_CONFIG))
        .allowedHosts(c.listEntries(IMAGE_ALLOWED_HOSTS_CONFIG))
        .allowHttp(c.getBoolean(IMAGE_ALLOW_HTTP_CONFIG))
        .allowLoopback(privateAllowed)
        .allowPrivateNetworks(privateAllowed)
        .connectTimeout(min(DEFAULTS.connectTimeout(), total))
        .readTimeout(min(DEFAULTS.readTimeout(), total))
        .totalTimeout(total)
        .fetchThreads(c.getInt(IMAGE_FETCH_THREADS_CONFIG))
        .build();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
