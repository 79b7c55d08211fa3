package io.shoplens.processor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException.Reason;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * https to the pinned address: the connection goes to the checked IP, while SNI and the certificate
 * check use the reference's host name. A self-signed certificate for {@code images.test} is made
 * with the JDK's keytool; stand-in DNS maps the names to 127.0.0.1.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpsImageFetchTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  private static final byte[] IMAGE = "\u0089PNG not really a png".getBytes(StandardCharsets.UTF_8);

  @TempDir static Path dir;
  private static HttpsServer server;
  private static SSLContext clientTls;

  @BeforeAll
  static void startHttpsServer() throws Exception {
    Path keystore = dir.resolve("server.p12");
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=images.test",
                "-ext",
                "san=dns:images.test",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                new String(PASSWORD))
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(keytool.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as("keytool: %s", output).isZero();

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, PASSWORD);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD);
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    clientTls = SSLContext.getInstance("TLS");
    clientTls.init(null, tmf.getTrustManagers(), null);

    server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    server.createContext(
        "/img.png",
        exchange -> {
          exchange.getResponseHeaders().set("Content-Type", "image/png");
          exchange.sendResponseHeaders(200, IMAGE.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(IMAGE);
          }
        });
    server.start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.stop(0);
    }
  }

  @Test
  void shouldFetchOverHttpsFromThePinnedAddressUnderTheReferenceHostName() {
    ResolvedImage image = fetcher("images.test").fetch(ref("images.test"));

    assertThat(image.bytes()).isEqualTo(IMAGE);
  }

  @Test
  void shouldRefuseACertificateThatDoesNotNameTheReferenceHost() {
    // other.test resolves to the same server, whose certificate names only images.test
    ImageRefusedException e =
        catchThrowableOfType(
            ImageRefusedException.class, () -> fetcher("other.test").fetch(ref("other.test")));

    assertThat(e.reason()).isEqualTo(Reason.IO_ERROR);
    assertThat(e.getMessage()).contains("other.test").contains("SSLHandshakeException");
  }

  private static ReferenceFetcher fetcher(String host) {
    ImageResolverConfig config =
        ImageResolverConfig.builder()
            .allowedHosts(List.of(host))
            .allowLoopback(true)
            .connectTimeout(Duration.ofSeconds(5))
            .readTimeout(Duration.ofSeconds(5))
            .totalTimeout(Duration.ofSeconds(10))
            .build();
    return new ReferenceFetcher(
        config,
        name -> new InetAddress[] {InetAddress.getLoopbackAddress()},
        new HttpClientTransport(clientTls),
        System::nanoTime);
  }

  private static ImageReference ref(String host) {
    String sha = HexFormat.of().formatHex(FetchPolicy.sha256().digest(IMAGE));
    String uri = "https://" + host + ":" + server.getAddress().getPort() + "/img.png";
    return new ImageReference(uri, sha, "image/png", (long) IMAGE.length);
  }
}
