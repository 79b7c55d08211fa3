package io.shoplens.processor.images;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.BasicHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.routing.DefaultRoutePlanner;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.client5.http.ssl.HttpsSupport;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.HttpConnectionFactory;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * {@link ImageTransport} on Apache HttpClient 5 (classic, blocking I/O on the fetch thread).
 *
 * <p>Pinning: each fetch gets its own single-connection client whose {@link DnsResolver} answers
 * the fetch's host with the address {@link FetchPolicy} checked, and refuses every other name
 * without a lookup. The client never resolves a name itself, and routes directly (no proxy, which
 * would resolve the name on its side). TLS uses the reference's host name for SNI and checks the
 * certificate against it in the handshake (JSSE endpoint identification) and again after it.
 *
 * <p>Left to the policy: redirects, retries, decompression (all disabled here, so the body is the
 * bytes the digest was taken of) and every limit.
 */
final class HttpClientTransport implements ImageTransport {
  private static final String USER_AGENT = "ShopLens-ImageResolver";

  /** Bounds the response head as a server may not: 8 KiB a line, 100 header fields. */
  private static final Http1Config HTTP1 =
      Http1Config.custom().setMaxLineLength(8 * 1024).setMaxHeaderCount(100).build();

  private final TlsSocketStrategy tls;

  /** Trusts what the JVM's default trust store trusts. */
  static HttpClientTransport withDefaultTrust() {
    try {
      return new HttpClientTransport(SSLContext.getDefault());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has a default TLS context", e);
    }
  }

  HttpClientTransport(SSLContext tls) {
    this.tls =
        new DefaultClientTlsStrategy(
            Objects.requireNonNull(tls, "tls"),
            HostnameVerificationPolicy.BOTH,
            HttpsSupport.getDefaultHostnameVerifier());
  }

  @Override
  public Session open(String host, InetAddress address) {
    return new ClientSession(new PinnedDnsResolver(host, address));
  }

  /** Answers one name with one checked address; any other name is refused, never looked up. */
  static final class PinnedDnsResolver implements DnsResolver {
    private final String host;
    private final InetAddress address;

    PinnedDnsResolver(String host, InetAddress address) {
      this.host = ImageResolverConfig.normalizeHost(Objects.requireNonNull(host, "host"));
      this.address = Objects.requireNonNull(address, "address");
    }

    @Override
    public InetAddress[] resolve(String name) throws UnknownHostException {
      if (!host.equals(ImageResolverConfig.normalizeHost(name))) {
        throw new UnknownHostException(name + ": this fetch connects to " + host + " only");
      }
      return new InetAddress[] {address};
    }

    @Override
    public String resolveCanonicalHostname(String name) throws UnknownHostException {
      resolve(name);
      return host;
    }
  }

  private final class ClientSession implements Session {
    private final BasicHttpClientConnectionManager connections;
    private final CloseableHttpClient client;

    /** The connection in use, so that each body read can get its own time-out. */
    private volatile ManagedHttpClientConnection current;

    ClientSession(DnsResolver pinned) {
      HttpConnectionFactory<ManagedHttpClientConnection> factory =
          ManagedHttpClientConnectionFactory.builder().http1Config(HTTP1).build();
      HttpConnectionFactory<ManagedHttpClientConnection> remembering =
          socket -> remember(factory.createConnection(socket));
      this.connections =
          new BasicHttpClientConnectionManager(
              new DefaultHttpClientConnectionOperator(
                  null,
                  pinned,
                  RegistryBuilder.<TlsSocketStrategy>create()
                      .register(URIScheme.HTTPS.id, tls)
                      .build()),
              remembering);
      this.client =
          HttpClients.custom()
              .setConnectionManager(connections)
              .setRoutePlanner(new DefaultRoutePlanner(null))
              .disableRedirectHandling()
              .disableAutomaticRetries()
              .disableContentCompression()
              .disableCookieManagement()
              .disableAuthCaching()
              .setUserAgent(USER_AGENT)
              .build();
    }

    private ManagedHttpClientConnection remember(ManagedHttpClientConnection connection) {
      current = connection;
      return connection;
    }

    @Override
    public Response get(URI uri, Duration connectTimeout, Duration readTimeout) throws IOException {
      connections.setConnectionConfig(
          ConnectionConfig.custom()
              .setConnectTimeout(timeout(connectTimeout))
              .setSocketTimeout(timeout(readTimeout))
              .build());
      connections.setTlsConfig(
          TlsConfig.custom().setHandshakeTimeout(timeout(readTimeout)).build());
      HttpGet request = new HttpGet(uri);
      request.setConfig(
          RequestConfig.custom()
              .setResponseTimeout(timeout(readTimeout))
              .setRedirectsEnabled(false)
              .build());
      request.setHeader("Accept", "image/*");
      request.setHeader("Accept-Encoding", "identity");
      try {
        return new ClientResponse(client.executeOpen(HttpHost.create(uri), request, null));
      } catch (ConnectTimeoutException e) {
        throw new ConnectTimeout(e.getMessage(), e);
      }
    }

    @Override
    public void close() {
      client.close(CloseMode.IMMEDIATE);
      connections.close(CloseMode.IMMEDIATE);
    }

    private final class ClientResponse implements Response {
      private final ClassicHttpResponse response;
      private InputStream body;

      ClientResponse(ClassicHttpResponse response) {
        this.response = response;
      }

      @Override
      public int status() {
        return response.getCode();
      }

      @Override
      public String header(String name) {
        Header header = response.getFirstHeader(name);
        return header == null ? null : header.getValue();
      }

      @Override
      public long contentLength() {
        HttpEntity entity = response.getEntity();
        return entity == null ? 0 : entity.getContentLength();
      }

      @Override
      public int read(byte[] buffer, Duration timeout) throws IOException {
        HttpEntity entity = response.getEntity();
        if (entity == null) {
          return -1;
        }
        if (body == null) {
          body = entity.getContent();
        }
        ManagedHttpClientConnection connection = current;
        if (connection != null) {
          connection.setSocketTimeout(timeout(timeout));
        }
        return body.read(buffer);
      }

      /**
       * Drops the connection without reading the rest of the body: closing the body stream would
       * drain it, which is what the size limit is there to prevent.
       */
      @Override
      public void close() throws IOException {
        if (response instanceof CloseableHttpResponse closeable) {
          closeable.close(CloseMode.IMMEDIATE);
        } else {
          response.close();
        }
      }
    }
  }

  private static Timeout timeout(Duration d) {
    return Timeout.of(Math.max(1, d.toMillis()), TimeUnit.MILLISECONDS);
  }
}
