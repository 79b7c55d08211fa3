package io.shoplens.processor.images;

import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException.Reason;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * Every decision about a reference, under {@link ImageResolverConfig}: what a reference must
 * declare, where it may point (scheme, allow-list, addresses), which redirects are followed, which
 * responses are accepted, how many bytes may be read, and whether the bytes are the declared ones.
 * Moves no bytes itself ({@link ImageTransport} does); its only I/O is the one name lookup per
 * fetch, through {@link HostResolver}, whose checked answer the transport is then pinned to.
 */
final class FetchPolicy {

  /** Name lookups; tests substitute answers without DNS. */
  @FunctionalInterface
  interface HostResolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  static final HostResolver SYSTEM_DNS = InetAddress::getAllByName;

  private static final int MAX_URI_LENGTH = 4096;
  private static final HexFormat HEX = HexFormat.of();

  /**
   * A reference that passed the checks made before any lookup or connection.
   *
   * @param uri the parsed URI
   * @param shown the URI as it may appear in messages ({@link #redact(URI)})
   * @param host the normalized, allow-listed host
   * @param sha256 the declared digest
   * @param mediaType the declared media type, lower-case, without parameters
   * @param size the declared size in bytes, within the limit
   */
  record Checked(URI uri, String shown, String host, byte[] sha256, String mediaType, long size) {}

  private final ImageResolverConfig config;
  private final HostResolver dns;

  FetchPolicy(ImageResolverConfig config, HostResolver dns) {
    this.config = Objects.requireNonNull(config, "config");
    this.dns = Objects.requireNonNull(dns, "dns");
  }

  ImageResolverConfig config() {
    return config;
  }

  /** The checks that need neither DNS nor a connection, in the order their refusals take. */
  Checked check(ImageReference ref) {
    URI uri = parse(ref.getUri());
    String shown = redact(uri);
    byte[] expectedSha = expectedSha256(ref.getSha256(), shown);
    String declaredType = mediaType(ref.getContentType());
    if (!declaredType.startsWith("image/")) {
      throw refused(
          Reason.CONTENT_TYPE_MISMATCH,
          shown + ": declared content type '" + ref.getContentType() + "' is not image/*");
    }
    long declaredSize = ref.getSizeBytes();
    if (declaredSize == 0) {
      throw refused(Reason.EMPTY, shown + ": declared size is 0 bytes");
    }
    if (declaredSize < 0) {
      throw refused(Reason.INVALID_REFERENCE, shown + ": declared size is " + declaredSize);
    }
    if (declaredSize > config.maxFetchBytes()) {
      throw refused(
          Reason.TOO_LARGE,
          shown
              + ": declared size "
              + declaredSize
              + " bytes is more than the limit of "
              + config.maxFetchBytes());
    }
    String host = checkTarget(uri, shown);
    return new Checked(uri, shown, host, expectedSha, declaredType, declaredSize);
  }

  /**
   * Looks the host up once and checks every answer; the fetch then connects only to the returned
   * address, so a DNS server that answers differently later (DNS rebinding) changes nothing.
   */
  InetAddress resolveAndCheck(String host, String shown) {
    InetAddress[] addresses;
    try {
      addresses =
          AddressPolicy.isLiteral(host)
              ? new InetAddress[] {AddressPolicy.literal(host)}
              : dns.resolve(host);
    } catch (UnknownHostException e) {
      throw refused(Reason.UNKNOWN_HOST, shown + ": host " + host + " does not resolve", true, e);
    }
    if (addresses == null || addresses.length == 0) {
      throw refused(Reason.UNKNOWN_HOST, shown + ": host " + host + " has no address", true);
    }
    // Every answer is checked, not just the one used: a name that mixes public and internal
    // addresses is suspect in itself.
    for (InetAddress address : addresses) {
      if (!AddressPolicy.allowed(address, config)) {
        throw refused(
            Reason.ADDRESS_NOT_ALLOWED,
            shown
                + ": host "
                + host
                + " resolves to "
                + address.getHostAddress()
                + ", "
                + AddressPolicy.classify(address).description
                + ", which is not allowed (allowLoopback="
                + config.allowLoopback()
                + ", allowPrivateNetworks="
                + config.allowPrivateNetworks()
                + ")");
      }
    }
    return addresses[0];
  }

  static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  /** The next URI of a redirect, which must stay on {@code host} and pass the target rules. */
  URI redirect(URI current, int status, String location, String host, int redirectsSoFar) {
    String shown = redact(current);
    if (location == null) {
      throw refused(
          Reason.REDIRECT_REFUSED, shown + ": HTTP status " + status + " without Location");
    }
    if (redirectsSoFar >= config.maxRedirects()) {
      throw refused(
          Reason.REDIRECT_REFUSED,
          shown + ": more than " + config.maxRedirects() + " redirects, giving up");
    }
    URI next;
    try {
      next = current.resolve(new URI(location.strip()));
    } catch (URISyntaxException | IllegalArgumentException e) {
      throw refused(Reason.REDIRECT_REFUSED, shown + ": malformed Location in redirect");
    }
    String nextShown = redact(next);
    String nextHost =
        next.getHost() == null ? null : ImageResolverConfig.normalizeHost(next.getHost());
    if (!host.equals(nextHost)) {
      throw refused(
          Reason.REDIRECT_REFUSED,
          shown
              + ": redirect to "
              + nextShown
              + " leaves host "
              + host
              + "; only same-host redirects are followed");
    }
    checkTarget(next, nextShown);
    return next;
  }

  /** A final status other than 200 refuses the image; the server's momentary trouble retries. */
  void checkStatus(int status, String shown) {
    if (status != 200) {
      // 408, 429 and 5xx are the server's momentary trouble; other statuses will not change.
      boolean retriable = status == 408 || status == 429 || status >= 500;
      throw refused(
          Reason.HTTP_STATUS, shown + ": HTTP status " + status + ", expected 200", retriable);
    }
  }

  /** The response's media type, which must be the declared one; returned without parameters. */
  String checkContentType(String header, Checked ref, String shown) {
    if (header == null) {
      throw refused(
          Reason.CONTENT_TYPE_MISMATCH, shown + ": no Content-Type, expected " + ref.mediaType());
    }
    String essence = mediaType(header);
    if (!essence.startsWith("image/") || !essence.equals(ref.mediaType())) {
      throw refused(
          Reason.CONTENT_TYPE_MISMATCH,
          shown + ": Content-Type is '" + header + "', expected " + ref.mediaType());
    }
    return essence;
  }

  /** Most body bytes worth reading: one byte past it proves the body is not the declared one. */
  long bodyLimit(Checked ref) {
    return Math.min(ref.size(), config.maxFetchBytes());
  }

  /** Refuses a Content-Length over the limit before any body byte is read; -1 means none given. */
  void checkContentLength(long contentLength, Checked ref, String shown) {
    if (contentLength > bodyLimit(ref)) {
      throw overLimit(shown, contentLength, ref.size(), "Content-Length says ");
    }
  }

  /** The refusal for a body seen to pass {@link #bodyLimit} ({@code how} says how it was seen). */
  ImageRefusedException overLimit(String shown, long seen, long declared, String how) {
    if (declared < config.maxFetchBytes()) {
      return refused(
          Reason.SIZE_MISMATCH, shown + ": " + how + seen + " bytes, declared " + declared);
    }
    return refused(
        Reason.TOO_LARGE,
        shown + ": " + how + seen + " bytes, more than the limit of " + config.maxFetchBytes());
  }

  /** The whole body: not empty, exactly the declared size, with the declared SHA-256. */
  ResolvedImage accept(byte[] body, String mediaType, Checked ref, String shown) {
    if (body.length == 0) {
      throw refused(Reason.EMPTY, shown + ": the body is empty");
    }
    if (body.length != ref.size()) {
      throw refused(
          Reason.SIZE_MISMATCH, shown + ": got " + body.length + " bytes, declared " + ref.size());
    }
    byte[] actualSha = sha256().digest(body);
    if (!MessageDigest.isEqual(actualSha, ref.sha256())) {
      throw refused(
          Reason.DIGEST_MISMATCH,
          shown
              + ": SHA-256 is "
              + HEX.formatHex(actualSha)
              + ", expected "
              + HEX.formatHex(ref.sha256()));
    }
    return new ResolvedImage(body, mediaType);
  }

  /** Scheme, user info, host and port rules; returns the normalized host. */
  private String checkTarget(URI uri, String shown) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !(scheme.equals("http") && config.allowHttp())) {
      throw refused(
          Reason.SCHEME_NOT_ALLOWED,
          shown
              + ": scheme '"
              + scheme
              + "' is not allowed, expected "
              + (config.allowHttp() ? "https or http" : "https"));
    }
    if (uri.getRawUserInfo() != null) {
      throw refused(Reason.INVALID_REFERENCE, shown + ": user info in a reference is not allowed");
    }
    if (uri.getHost() == null) {
      throw refused(Reason.INVALID_REFERENCE, shown + ": no valid host name");
    }
    String host = ImageResolverConfig.normalizeHost(uri.getHost());
    if (!config.hostAllowed(host)) {
      throw refused(
          Reason.HOST_NOT_ALLOWED,
          shown + ": host " + host + " is not in the allow-list " + config.allowedHosts());
    }
    return host;
  }

  private static URI parse(String raw) {
    if (raw == null || raw.isBlank()) {
      throw refused(Reason.INVALID_REFERENCE, "image reference has no URI");
    }
    if (raw.length() > MAX_URI_LENGTH) {
      throw refused(
          Reason.INVALID_REFERENCE,
          "image reference URI has " + raw.length() + " characters, limit " + MAX_URI_LENGTH);
    }
    try {
      URI uri = new URI(raw);
      // Only the scheme is shown: the rest of a relative or opaque URI is not split into parts
      // that redact() could drop, and may carry a secret (mailto:user@host?token=...). The URI
      // parser allows only letters, digits, '+', '-' and '.' in a scheme.
      if (!uri.isAbsolute()) {
        throw refused(
            Reason.INVALID_REFERENCE,
            "image reference is a relative URI, expected an absolute one such as"
                + " https://host/path");
      }
      if (uri.isOpaque()) {
        throw refused(
            Reason.INVALID_REFERENCE,
            "image reference is an opaque '"
                + abbreviate(uri.getScheme())
                + ":' URI, expected a hierarchical one such as https://host/path");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw refused(
          Reason.INVALID_REFERENCE,
          "image reference is not a valid URI: " + e.getReason() + " at index " + e.getIndex());
    }
  }

  /**
   * The URI as it may appear in logs and dead letters: without user info, query and fragment, which
   * may hold credentials (pre-signed URLs carry their signature in the query).
   */
  static String redact(URI uri) {
    if (uri.getScheme() == null) {
      return "image reference (not an absolute URI)";
    }
    StringBuilder s = new StringBuilder();
    s.append(uri.getScheme()).append("://");
    if (uri.getHost() != null) {
      s.append(uri.getHost());
    } else {
      s.append("?");
    }
    if (uri.getPort() != -1) {
      s.append(':').append(uri.getPort());
    }
    if (uri.getRawPath() != null) {
      s.append(uri.getRawPath());
    }
    if (uri.getRawQuery() != null) {
      s.append("?…");
    }
    return s.toString();
  }

  /** {@link #redact(URI)} for a raw reference, which may not even parse. */
  static String redact(String rawUri) {
    try {
      return redact(new URI(rawUri));
    } catch (URISyntaxException | RuntimeException e) {
      return "image reference (unparseable URI)";
    }
  }

  private static byte[] expectedSha256(String hex, String shown) {
    if (hex == null || !hex.matches("[0-9a-f]{64}")) {
      throw refused(
          Reason.INVALID_REFERENCE,
          shown
              + ": sha256 must be 64 lowercase hexadecimal characters, got '"
              + abbreviate(String.valueOf(hex))
              + "'");
    }
    return HEX.parseHex(hex);
  }

  /** The media type without parameters, lower-case: {@code Image/JPEG; q=1} -> image/jpeg. */
  private static String mediaType(String contentType) {
    int semicolon = contentType.indexOf(';');
    return (semicolon >= 0 ? contentType.substring(0, semicolon) : contentType)
        .strip()
        .toLowerCase(Locale.ROOT);
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "…";
  }

  static ImageRefusedException refused(Reason reason, String message) {
    return new ImageRefusedException(reason, message, false);
  }

  static ImageRefusedException refused(Reason reason, String message, boolean retriable) {
    return new ImageRefusedException(reason, message, retriable);
  }

  static ImageRefusedException refused(
      Reason reason, String message, boolean retriable, Throwable cause) {
    return new ImageRefusedException(reason, message, retriable, cause);
  }
}
