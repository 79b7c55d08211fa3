package io.shoplens.processor.images;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;

/**
 * Moves the bytes of one fetch and decides nothing: {@link FetchPolicy} says where it may connect,
 * what to accept and when to stop. {@link HttpClientTransport} is the production one; tests
 * substitute one that records where it was sent and connects nowhere.
 */
interface ImageTransport {

  /**
   * Starts one fetch whose every connection goes to {@code address}, never to a second lookup of
   * {@code host}; the host name still serves TLS (SNI and the certificate check) and the Host
   * header. Does no I/O.
   */
  Session open(String host, InetAddress address);

  /** The connections of one fetch (the first request and its same-host redirects). */
  interface Session extends Closeable {

    /**
     * Sends {@code GET uri} and returns once the status line and headers are in.
     *
     * @param connectTimeout longest wait for the TCP connection
     * @param readTimeout longest wait for the TLS handshake and for the response head
     * @throws ConnectTimeout when no connection was made within the time allowed
     */
    Response get(URI uri, Duration connectTimeout, Duration readTimeout) throws IOException;
  }

  /** No connection within the time allowed (other time-outs are plain socket time-outs). */
  final class ConnectTimeout extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    ConnectTimeout(String message, Throwable cause) {
      super(message);
      initCause(cause);
    }
  }

  /** A response whose body has not been read yet. Closing it drops the connection. */
  interface Response extends Closeable {
    int status();

    /** The first value of the header {@code name} (case-insensitive), or null. */
    String header(String name);

    /**
     * The body's length as the server declared it, or -1 when it did not (chunked, or until close).
     */
    long contentLength();

    /**
     * Reads body bytes (transfer coding removed), waiting at most {@code timeout} for any.
     *
     * @return the number of bytes read, or -1 at the end of the body
     * @throws java.net.SocketTimeoutException when no byte came within {@code timeout}
     */
    int read(byte[] buffer, Duration timeout) throws IOException;
  }
}
