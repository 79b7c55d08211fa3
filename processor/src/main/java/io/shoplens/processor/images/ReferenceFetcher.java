package io.shoplens.processor.images;

import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException.Reason;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Fetches one {@link ImageReference} over HTTP/1.1 under {@link ImageResolverConfig}'s rules.
 *
 * <p>Why a small HTTP client of its own rather than {@code java.net.http.HttpClient}: the host is
 * resolved exactly once, every resolved address is checked, and the connection goes to that checked
 * address (with the original host name for SNI, certificate checks and the Host header). The JDK
 * clients resolve names themselves, which lets a DNS server that answers differently the second
 * time (DNS rebinding) steer the connection to an internal address after the check passed.
 *
 * <p>Blocking: call it on a fetch thread, never on a stream thread.
 */
final class ReferenceFetcher {

  /** Name lookups; tests substitute answers without DNS. */
  @FunctionalInterface
  interface HostResolver {
    InetAddress[] resolve(String host) throws UnknownHostException;
  }

  /** Opens TCP connections; tests observe (or forbid) connection attempts. */
  @FunctionalInterface
  interface Connector {
    Socket connect(InetSocketAddress address, int timeoutMillis) throws IOException;
  }

  static final HostResolver SYSTEM_DNS = InetAddress::getAllByName;

  static final Connector PLAIN_SOCKETS =
      (address, timeoutMillis) -> {
        Socket socket = new Socket();
        try {
          socket.connect(address, timeoutMillis);
          socket.setTcpNoDelay(true);
          return socket;
        } catch (IOException | RuntimeException e) {
          socket.close();
          throw e;
        }
      };

  private static final int MAX_URI_LENGTH = 4096;
  private static final int MAX_LINE_BYTES = 8 * 1024;
  private static final int MAX_HEADER_BYTES = 64 * 1024;
  private static final int MAX_INTERIM_RESPONSES = 8;
  private static final HexFormat HEX = HexFormat.of();

  private final ImageResolverConfig config;
  private final HostResolver dns;
  private final Connector connector;
  private final SSLSocketFactory tls;
  private final LongSupplier nanoTime;

  ReferenceFetcher(
      ImageResolverConfig config,
      HostResolver dns,
      Connector connector,
      SSLSocketFactory tls,
      LongSupplier nanoTime) {
    this.config = Objects.requireNonNull(config, "config");
    this.dns = Objects.requireNonNull(dns, "dns");
    this.connector = Objects.requireNonNull(connector, "connector");
    this.tls = Objects.requireNonNull(tls, "tls");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  ResolvedImage fetch(ImageReference ref) throws ImageRefusedException {
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
    long deadline = nanoTime.getAsLong() + config.totalTimeout().toNanos();
    // Resolved once per fetch; redirects stay on this host and reuse the checked address.
    InetAddress pinned = resolveAndCheck(host, shown);

    URI current = uri;
    for (int redirects = 0; ; redirects++) {
      String currentShown = redact(current);
      try (Exchange exchange = open(current, host, pinned, deadline, currentShown)) {
        Response head = exchange.send(current, host);
        if (isRedirect(head.status)) {
          current = followRedirect(current, head, host, redirects, currentShown);
          continue;
        }
        if (head.status != 200) {
          // 408, 429 and 5xx are the server's momentary trouble; other statuses will not change.
          boolean retriable = head.status == 408 || head.status == 429 || head.status >= 500;
          throw refused(
              Reason.HTTP_STATUS,
              currentShown + ": HTTP status " + head.status + ", expected 200",
              retriable);
        }
        String type = head.first("content-type");
        if (type == null) {
          throw refused(
              Reason.CONTENT_TYPE_MISMATCH,
              currentShown + ": no Content-Type, expected " + declaredType);
        }
        String essence = mediaType(type);
        if (!essence.startsWith("image/") || !essence.equals(declaredType)) {
          throw refused(
              Reason.CONTENT_TYPE_MISMATCH,
              currentShown + ": Content-Type is '" + type + "', expected " + declaredType);
        }
        byte[] body = exchange.readBody(head, declaredSize, currentShown);
        if (body.length == 0) {
          throw refused(Reason.EMPTY, currentShown + ": the body is empty");
        }
        if (body.length != declaredSize) {
          throw refused(
              Reason.SIZE_MISMATCH,
              currentShown + ": got " + body.length + " bytes, declared " + declaredSize);
        }
        byte[] actualSha = sha256().digest(body);
        if (!MessageDigest.isEqual(actualSha, expectedSha)) {
          throw refused(
              Reason.DIGEST_MISMATCH,
              currentShown
                  + ": SHA-256 is "
                  + HEX.formatHex(actualSha)
                  + ", expected "
                  + HEX.formatHex(expectedSha));
        }
        return new ResolvedImage(body, essence);
      } catch (SocketTimeoutException e) {
        throw timeout(currentShown, deadline, e);
      } catch (DeadlineExceeded e) {
        throw refused(
            Reason.TIMEOUT,
            currentShown + ": the fetch took longer than " + config.totalTimeout(),
            true,
            e);
      } catch (IOException e) {
        throw refused(Reason.IO_ERROR, currentShown + ": " + describe(e), true, e);
      }
    }
  }

  private URI followRedirect(
      URI current, Response head, String host, int redirectsSoFar, String shown) {
    String location = head.first("location");
    if (location == null) {
      throw refused(
          Reason.REDIRECT_REFUSED, shown + ": HTTP status " + head.status + " without Location");
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

  private InetAddress resolveAndCheck(String host, String shown) {
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

  private Exchange open(URI uri, String host, InetAddress pinned, long deadline, String shown)
      throws IOException {
    boolean https = uri.getScheme().equalsIgnoreCase("https");
    int port = uri.getPort() != -1 ? uri.getPort() : https ? 443 : 80;
    int connectMillis = timeoutMillis(config.connectTimeout().toMillis(), deadline);
    Socket socket;
    try {
      socket = connector.connect(new InetSocketAddress(pinned, port), connectMillis);
    } catch (SocketTimeoutException e) {
      throw refused(
          Reason.TIMEOUT,
          shown
              + ": no connection to "
              + pinned.getHostAddress()
              + " within "
              + connectMillis
              + " ms",
          true,
          e);
    }
    try {
      if (https) {
        SSLSocket ssl = (SSLSocket) tls.createSocket(socket, host, port, true);
        SSLParameters params = ssl.getSSLParameters();
        // Certificate must match the host name of the reference, not the pinned address.
        params.setEndpointIdentificationAlgorithm("HTTPS");
        if (!AddressPolicy.isLiteral(host)) {
          params.setServerNames(List.of(new SNIHostName(host)));
        }
        ssl.setSSLParameters(params);
        ssl.setSoTimeout(timeoutMillis(config.readTimeout().toMillis(), deadline));
        ssl.startHandshake();
        socket = ssl;
      }
      return new Exchange(socket, deadline);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private int timeoutMillis(long limitMillis, long deadline) throws DeadlineExceeded {
    long remaining = (deadline - nanoTime.getAsLong()) / 1_000_000;
    if (remaining <= 0) {
      throw new DeadlineExceeded();
    }
    return (int) Math.max(1, Math.min(Math.min(limitMillis, remaining), Integer.MAX_VALUE));
  }

  private ImageRefusedException timeout(String shown, long deadline, SocketTimeoutException e) {
    // Each read waits for the smaller of the read limit and what is left of the deadline.
    boolean deadlinePassed = nanoTime.getAsLong() - deadline >= -1_000_000;
    String what =
        deadlinePassed
            ? "the fetch took longer than " + config.totalTimeout()
            : "no data from the server within " + config.readTimeout();
    return refused(Reason.TIMEOUT, shown + ": " + what, true, e);
  }

  /** One request and response on one connection ({@code Connection: close}). */
  private final class Exchange implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;

    Exchange(Socket socket, long deadline) throws IOException {
      this.socket = socket;
      this.deadline = deadline;
      this.in =
          new BufferedInputStream(new DeadlineInputStream(socket.getInputStream()), 16 * 1024);
    }

    Response send(URI uri, String host) throws IOException {
      String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
      String target = uri.getRawQuery() == null ? path : path + "?" + uri.getRawQuery();
      String hostHeader = host.contains(":") ? "[" + host + "]" : host;
      if (uri.getPort() != -1) {
        hostHeader += ":" + uri.getPort();
      }
      String request =
          "GET "
              + target
              + " HTTP/1.1\r\nHost: "
              + hostHeader
              + "\r\nUser-Agent: ShopLens-ImageResolver\r\nAccept: image/*\r\n"
              + "Accept-Encoding: identity\r\nConnection: close\r\n\r\n";
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      for (int i = 0; i < MAX_INTERIM_RESPONSES; i++) {
        Response response = readHead();
        if (response.status >= 200 || response.status == 101) {
          return response;
        }
        // 1xx (103 Early Hints, 100 Continue): a final response follows.
      }
      throw new IOException("more than " + MAX_INTERIM_RESPONSES + " interim responses");
    }

    private Response readHead() throws IOException {
      int[] budget = {MAX_HEADER_BYTES};
      String statusLine = readLine(budget);
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
        throw new IOException("not an HTTP/1.x response: " + abbreviate(statusLine));
      }
      int status;
      try {
        status = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IOException("bad status line: " + abbreviate(statusLine), e);
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      for (String line = readLine(budget); !line.isEmpty(); line = readLine(budget)) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          throw new IOException("malformed header line: " + abbreviate(line));
        }
        headers
            .computeIfAbsent(
                line.substring(0, colon).strip().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
            .add(line.substring(colon + 1).strip());
      }
      return new Response(status, headers);
    }

    byte[] readBody(Response head, long declaredSize, String shown) throws IOException {
      // Never read more than could be accepted: one byte past the limit proves the excess.
      long limit = Math.min(declaredSize, config.maxFetchBytes());
      List<String> encodings = head.all("transfer-encoding");
      boolean chunked =
          !encodings.isEmpty()
              && encodings.get(encodings.size() - 1).toLowerCase(Locale.ROOT).endsWith("chunked");
      long contentLength = -1;
      if (encodings.isEmpty() && head.first("content-length") != null) {
        contentLength = contentLength(head.all("content-length"));
        if (contentLength > limit) {
          throw overLimit(shown, contentLength, declaredSize, "Content-Length says ");
        }
      }
      LimitedSink sink = new LimitedSink(limit, shown, declaredSize);
      if (chunked) {
        readChunked(sink);
      } else if (contentLength >= 0) {
        copy(contentLength, sink, true);
      } else {
        copy(Long.MAX_VALUE, sink, false); // no length given: the body ends when the server closes
      }
      return sink.bytes();
    }

    private void readChunked(LimitedSink sink) throws IOException {
      int[] budget = {MAX_HEADER_BYTES};
      while (true) {
        String line = readLine(budget);
        int semicolon = line.indexOf(';');
        String hex = (semicolon >= 0 ? line.substring(0, semicolon) : line).strip();
        if (hex.isEmpty() || hex.length() > 15) {
          throw new IOException("bad chunk size: " + abbreviate(line));
        }
        long size;
        try {
          size = Long.parseLong(hex, 16);
        } catch (NumberFormatException e) {
          throw new IOException("bad chunk size: " + abbreviate(line), e);
        }
        if (size == 0) {
          while (!readLine(budget).isEmpty()) {
            // trailers: ignored
          }
          return;
        }
        copy(size, sink, true);
        if (!readLine(budget).isEmpty()) {
          throw new IOException("chunk not followed by CRLF");
        }
        budget[0] = MAX_HEADER_BYTES;
      }
    }

    private void copy(long length, LimitedSink sink, boolean exact) throws IOException {
      byte[] buffer = new byte[16 * 1024];
      long left = length;
      while (left > 0) {
        int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
        if (n < 0) {
          if (exact) {
            throw new IOException(
                "connection closed after " + (length - left) + " of " + length + " bytes");
          }
          return;
        }
        sink.write(buffer, n);
        left -= n;
      }
    }

    private String readLine(int[] budget) throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream(64);
      while (true) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("connection closed in the middle of the response head");
        }
        if (--budget[0] < 0 || line.size() >= MAX_LINE_BYTES) {
          throw new IOException("response head is too long");
        }
        if (c == '\n') {
          byte[] bytes = line.toByteArray();
          int end =
              bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
          return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
        }
        line.write(c);
      }
    }

    /** Sets each read's time-out to what is left of the read limit and the total deadline. */
    private final class DeadlineInputStream extends InputStream {
      private final InputStream raw;

      DeadlineInputStream(InputStream raw) {
        this.raw = raw;
      }

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        socket.setSoTimeout(timeoutMillis(config.readTimeout().toMillis(), deadline));
        return raw.read(b, off, len);
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Collects the body and refuses it the moment it passes the limit. */
  private final class LimitedSink {
    private final long limit;
    private final String shown;
    private final long declaredSize;
    private final ByteArrayOutputStream bytes;

    LimitedSink(long limit, String shown, long declaredSize) {
      this.limit = limit;
      this.shown = shown;
      this.declaredSize = declaredSize;
      this.bytes = new ByteArrayOutputStream((int) Math.min(limit, 64 * 1024));
    }

    void write(byte[] buffer, int n) {
      if (bytes.size() + (long) n > limit) {
        throw overLimit(shown, bytes.size() + (long) n, declaredSize, "got at least ");
      }
      bytes.write(buffer, 0, n);
    }

    byte[] bytes() {
      return bytes.toByteArray();
    }
  }

  private ImageRefusedException overLimit(String shown, long seen, long declared, String how) {
    if (declared < config.maxFetchBytes()) {
      return refused(
          Reason.SIZE_MISMATCH, shown + ": " + how + seen + " bytes, declared " + declared);
    }
    return refused(
        Reason.TOO_LARGE,
        shown + ": " + how + seen + " bytes, more than the limit of " + config.maxFetchBytes());
  }

  private record Response(int status, Map<String, List<String>> headers) {
    String first(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? null : values.get(0);
    }

    List<String> all(String name) {
      List<String> out = new ArrayList<>();
      for (String value : headers.getOrDefault(name, List.of())) {
        for (String part : value.split(",")) {
          if (!part.isBlank()) {
            out.add(part.strip());
          }
        }
      }
      return out;
    }
  }

  private static long contentLength(List<String> values) throws IOException {
    long length = -1;
    for (String value : values) {
      long parsed;
      try {
        parsed = Long.parseLong(value);
      } catch (NumberFormatException e) {
        throw new IOException("bad Content-Length: " + abbreviate(value), e);
      }
      if (parsed < 0 || (length >= 0 && parsed != length)) {
        throw new IOException("bad Content-Length: " + values);
      }
      length = parsed;
    }
    return length;
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
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
      if (!uri.isAbsolute() || uri.isOpaque()) {
        throw refused(
            Reason.INVALID_REFERENCE,
            "image reference '" + abbreviate(raw) + "' is not an absolute hierarchical URI");
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

  private static String describe(IOException e) {
    return e.getMessage() == null
        ? e.getClass().getSimpleName()
        : e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "…";
  }

  private static ImageRefusedException refused(Reason reason, String message) {
    return new ImageRefusedException(reason, message, false);
  }

  private static ImageRefusedException refused(Reason reason, String message, boolean retriable) {
    return new ImageRefusedException(reason, message, retriable);
  }

  private static ImageRefusedException refused(
      Reason reason, String message, boolean retriable, Throwable cause) {
    return new ImageRefusedException(reason, message, retriable, cause);
  }

  /** The total deadline passed before an operation could start. */
  private static final class DeadlineExceeded extends IOException {
    private static final long serialVersionUID = 1L;

    DeadlineExceeded() {
      super("total deadline passed");
    }
  }
}
