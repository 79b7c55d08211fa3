package io.shoplens.processor.app.config;

import io.shoplens.processor.images.ImageResolverConfig;
import java.time.Duration;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/**
 * The images group: inline limits and which references may be fetched. Defaults are {@link
 * ImageResolverConfig#defaults()}'s; settings not listed here keep them.
 */
public final class ImageSettings {
  static final SettingGroup SETTINGS = new SettingGroup("Images");

  // First: the defaults below read it during class initialisation.
  private static final ImageResolverConfig DEFAULTS = ImageResolverConfig.defaults();

  public static final Setting IMAGE_INLINE_MAX_BYTES =
      SETTINGS
          .define("shoplens.image.inline.max.bytes", DEFAULTS.maxInlineBytes(), Range.atLeast(1))
          .importance(Importance.MEDIUM)
          .doc(
              "Largest image carried inside an upload event; larger ones are dead-lettered. Keep it under"
                  + " the topic's max.message.bytes (shoplens topics create sets 2 MiB).");

  public static final Setting IMAGE_FETCH_MAX_BYTES =
      SETTINGS
          .define(
              "shoplens.image.fetch.max.bytes",
              DEFAULTS.maxFetchBytes(),
              Range.between(1, Integer.MAX_VALUE - 8))
          .importance(Importance.MEDIUM)
          .doc("Largest image fetched from a reference, counted while reading.");

  public static final Setting IMAGE_ALLOWED_HOSTS =
      SETTINGS
          .define("shoplens.image.allowed.hosts", DEFAULTS.allowedHosts(), null)
          .importance(Importance.MEDIUM)
          .doc(
              "Hosts image references may be fetched from: exact names or IPs, or *.example.com for"
                  + " subdomains. Empty: every reference is refused (inline images only).");

  public static final Setting IMAGE_ALLOW_HTTP =
      SETTINGS
          .define("shoplens.image.allow.http", DEFAULTS.allowHttp())
          .doc("Also fetch plain http references (https always is).");

  public static final Setting IMAGE_ALLOW_PRIVATE_NETWORKS =
      SETTINGS
          .define("shoplens.image.allow.private.networks", DEFAULTS.allowPrivateNetworks())
          .doc(
              "Allow allow-listed hosts that resolve to loopback, private or link-local addresses (an"
                  + " image store inside your network). Off, such fetches are refused (SSRF protection).");

  public static final Setting IMAGE_FETCH_TIMEOUT_MS =
      SETTINGS
          .define("shoplens.image.fetch.timeout.ms", DEFAULTS.totalTimeout(), Range.atLeast(1))
          .doc(
              "Longest a whole fetch (redirects, headers and body) may take; connect ("
                  + DEFAULTS.connectTimeout().toSeconds()
                  + " s) and each read ("
                  + DEFAULTS.readTimeout().toSeconds()
                  + " s) are bounded as well.");

  public static final Setting IMAGE_FETCH_THREADS =
      SETTINGS
          .define("shoplens.image.fetch.threads", DEFAULTS.fetchThreads(), Range.atLeast(1))
          .doc("Threads fetching image references (the stream threads never wait on the network).");

  private ImageSettings() {}

  /**
   * The image resolver's settings. One switch allows loopback and private networks together;
   * connect and read time-outs keep the resolver's defaults but never exceed the total.
   */
  static ImageResolverConfig imageResolverConfig(ShopLensConfig c) {
    Duration total = c.getDuration(IMAGE_FETCH_TIMEOUT_MS.name());
    boolean privateAllowed = c.getBoolean(IMAGE_ALLOW_PRIVATE_NETWORKS.name());
    return ImageResolverConfig.builder()
        .maxInlineBytes(c.getLong(IMAGE_INLINE_MAX_BYTES.name()))
        .maxFetchBytes(c.getLong(IMAGE_FETCH_MAX_BYTES.name()))
        .allowedHosts(c.listEntries(IMAGE_ALLOWED_HOSTS.name()))
        .allowHttp(c.getBoolean(IMAGE_ALLOW_HTTP.name()))
        .allowLoopback(privateAllowed)
        .allowPrivateNetworks(privateAllowed)
        .connectTimeout(min(DEFAULTS.connectTimeout(), total))
        .readTimeout(min(DEFAULTS.readTimeout(), total))
        .totalTimeout(total)
        .fetchThreads(c.getInt(IMAGE_FETCH_THREADS.name()))
        .build();
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
