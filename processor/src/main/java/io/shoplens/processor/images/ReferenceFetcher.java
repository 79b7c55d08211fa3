package io.shoplens.processor.images;

import static io.shoplens.processor.images.FetchPolicy.refused;

import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.FetchPolicy.Checked;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException.Reason;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import io.shoplens.processor.images.ImageTransport.Response;
import io.shoplens.processor.images.ImageTransport.Session;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Fetches one {@link ImageReference}: asks {@link FetchPolicy} at every step, has {@link
 * ImageTransport} move the bytes, and keeps the one deadline of the whole fetch on its clock.
 *
 * <p>Time: each wait (connecting, the TLS handshake, the response head, every body read) is the
 * smaller of its own limit and what is left of {@link ImageResolverConfig#totalTimeout()}, so a
 * fetch ends within the total time-out plus one DNS lookup, however slowly the server trickles.
 *
 * <p>Blocking: call it on a fetch thread, never on a stream thread.
 */
final class ReferenceFetcher {
  private static final int BUFFER_BYTES = 16 * 1024;

  private final FetchPolicy policy;
  private final ImageResolverConfig config;
  private final ImageTransport transport;
  private final LongSupplier nanoTime;

  ReferenceFetcher(
      ImageResolverConfig config,
      FetchPolicy.HostResolver dns,
      ImageTransport transport,
      LongSupplier nanoTime) {
    this.config = Objects.requireNonNull(config, "config");
    this.policy = new FetchPolicy(config, dns);
    this.transport = Objects.requireNonNull(transport, "transport");
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  ResolvedImage fetch(ImageReference ref) throws ImageRefusedException {
    Checked checked = policy.check(ref);
    long deadline = nanoTime.getAsLong() + config.totalTimeout().toNanos();
    // Resolved once per fetch; redirects stay on this host and reuse the checked address.
    InetAddress pinned = policy.resolveAndCheck(checked.host(), checked.shown());
    URI current = checked.uri();
    String shown = checked.shown();
    try (Session session = transport.open(checked.host(), pinned)) {
      for (int redirects = 0; ; redirects++) {
        shown = FetchPolicy.redact(current);
        Duration connect = remaining(config.connectTimeout(), deadline);
        Duration read = remaining(config.readTimeout(), deadline);
        try (Response response = connect(session, current, connect, read, pinned, shown)) {
          int status = response.status();
          if (FetchPolicy.isRedirect(status)) {
            current =
                policy.redirect(
                    current, status, response.header("location"), checked.host(), redirects);
            continue;
          }
          policy.checkStatus(status, shown);
          String mediaType =
              policy.checkContentType(response.header("content-type"), checked, shown);
          policy.checkContentLength(response.contentLength(), checked, shown);
          byte[] body = readBody(response, checked, deadline, shown);
          return policy.accept(body, mediaType, checked, shown);
        }
      }
    } catch (SocketTimeoutException e) {
      throw timeout(shown, deadline, e);
    } catch (DeadlineExceeded e) {
      throw deadlinePassed(shown, e);
    } catch (IOException e) {
      throw refused(Reason.IO_ERROR, shown + ": " + describe(e), true, e);
    }
  }

  private static Response connect(
      Session session, URI uri, Duration connect, Duration read, InetAddress pinned, String shown)
      throws IOException {
    try {
      return session.get(uri, connect, read);
    } catch (ImageTransport.ConnectTimeout e) {
      throw refused(
          Reason.TIMEOUT,
          shown
              + ": no connection to "
              + pinned.getHostAddress()
              + " within "
              + connect.toMillis()
              + " ms",
          true,
          e);
    }
  }

  /** Streams the body, refusing it the moment it passes the limit, whatever was declared. */
  private byte[] readBody(Response response, Checked ref, long deadline, String shown)
      throws IOException {
    long limit = policy.bodyLimit(ref);
    ByteArrayOutputStream body = new ByteArrayOutputStream((int) Math.min(limit, 64 * 1024));
    byte[] buffer = new byte[BUFFER_BYTES];
    while (true) {
      int n = response.read(buffer, remaining(config.readTimeout(), deadline));
      if (n < 0) {
        return body.toByteArray();
      }
      if (body.size() + (long) n > limit) {
        throw policy.overLimit(shown, body.size() + (long) n, ref.size(), "got at least ");
      }
      body.write(buffer, 0, n);
    }
  }

  /** The smaller of {@code limit} and what is left before {@code deadline}. */
  private Duration remaining(Duration limit, long deadline) throws DeadlineExceeded {
    long left = deadline - nanoTime.getAsLong();
    if (left <= 0) {
      throw new DeadlineExceeded();
    }
    return Duration.ofNanos(Math.max(1_000_000, Math.min(limit.toNanos(), left)));
  }

  private ImageRefusedException timeout(String shown, long deadline, SocketTimeoutException e) {
    // Each read waits for the smaller of the read limit and what is left of the deadline.
    if (nanoTime.getAsLong() - deadline >= -1_000_000) {
      return deadlinePassed(shown, e);
    }
    return refused(
        Reason.TIMEOUT,
        shown + ": no data from the server within " + config.readTimeout(),
        true,
        e);
  }

  private ImageRefusedException deadlinePassed(String shown, IOException e) {
    return refused(
        Reason.TIMEOUT, shown + ": the fetch took longer than " + config.totalTimeout(), true, e);
  }

  private static String describe(IOException e) {
    return e.getMessage() == null
        ? e.getClass().getSimpleName()
        : e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /** The total deadline passed before an operation could start. */
  private static final class DeadlineExceeded extends IOException {
    private static final long serialVersionUID = 1L;

    DeadlineExceeded() {
      super("total deadline passed");
    }
  }
}
