package io.shoplens.processor.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.shoplens.events.ImageReference;
import io.shoplens.events.InlineImage;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException.Reason;
import io.shoplens.processor.images.ImageResolver.ResolvedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The resolver against a real HTTP server on 127.0.0.1 (loopback explicitly allowed where a test
 * means to connect), and against stand-in DNS answers for addresses that must be refused before any
 * connection: no test sends traffic anywhere but loopback.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class HttpImageResolverTest {

  private static final byte[] PNG = pngLikeBytes(3000);
  private static final String PNG_SHA = sha256(PNG);

  private HttpServer server;
  private ExecutorService serverThreads;
  private int port;
  private final AtomicInteger requests = new AtomicInteger();
  private final List<String> hostHeaders = new CopyOnWriteArrayList<>();

  /** Released after each test so that stalling handlers end. */
  private final CountDownLatch release = new CountDownLatch(1);

  private final AtomicInteger connections = new AtomicInteger();

  /**
   * The fetcher's clock, in nanoseconds: still unless a test moves it, so that the total deadline
   * passes when a test says so and never by itself on a slow machine.
   */
  private final AtomicLong clock = new AtomicLong();

  /** Bytes the trickling server has written, and how far it moves the clock after the fifth. */
  private final AtomicInteger trickled = new AtomicInteger();

  private Duration trickleClockJump = Duration.ZERO;
  private final Map<String, AtomicInteger> lookups = new ConcurrentHashMap<>();

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    serverThreads = Executors.newCachedThreadPool();
    server.setExecutor(serverThreads);
    port = server.getAddress().getPort();
    handle("/img.png", ex -> send(ex, 200, "image/png", PNG));
    handle("/html", ex -> send(ex, 200, "text/html; charset=utf-8", "<html>".getBytes(UTF8)));
    handle("/jpeg", ex -> send(ex, 200, "image/jpeg", PNG));
    handle("/missing", ex -> send(ex, 404, "text/plain", "no".getBytes(UTF8)));
    handle("/busy", ex -> send(ex, 503, "text/plain", "later".getBytes(UTF8)));
    handle("/same-host", ex -> redirect(ex, "/img.png"));
    handle("/loop", ex -> redirect(ex, "/loop"));
    handle("/other-host", ex -> redirect(ex, "http://localhost:" + port + "/img.png"));
    handle(
        "/huge-length",
        ex -> {
          ex.getResponseHeaders().set("Content-Type", "image/png");
          ex.sendResponseHeaders(200, 50L * 1024 * 1024);
          ex.close();
        });
    handle(
        "/endless",
        ex -> {
          // No Content-Length (chunked): only counting while streaming can stop this.
          ex.getResponseHeaders().set("Content-Type", "image/png");
          ex.sendResponseHeaders(200, 0);
          byte[] chunk = new byte[8192];
          try (OutputStream out = ex.getResponseBody()) {
            for (int i = 0; i < 100_000; i++) {
              out.write(chunk);
            }
          } catch (IOException expected) {
            // the client hung up: what the test wants
          }
        });
    handle(
        "/stall",
        ex -> {
          ex.getResponseHeaders().set("Content-Type", "image/png");
          ex.sendResponseHeaders(200, PNG.length);
          OutputStream out = ex.getResponseBody();
          out.write(PNG, 0, 10);
          out.flush();
          await(release, 15_000);
          ex.close();
        });
    handle(
        "/trickle",
        ex -> {
          // One byte at a time, each well within the read time-out; the fetcher's clock passes
          // its whole budget after the fifth, as if the server had been trickling for that long.
          ex.getResponseHeaders().set("Content-Type", "image/png");
          ex.sendResponseHeaders(200, PNG.length);
          try (OutputStream out = ex.getResponseBody()) {
            for (byte b : PNG) {
              out.write(b);
              out.flush();
              if (trickled.incrementAndGet() == 5) {
                clock.addAndGet(trickleClockJump.toNanos());
              }
              if (await(release, 5)) {
                return;
              }
            }
          } catch (IOException expected) {
            // the client gave up
          }
        });
    server.start();
  }

  @AfterEach
  void stopServer() {
    release.countDown();
    server.stop(0);
    serverThreads.shutdownNow();
  }

  // ---- success ----

  @Test
  void shouldFetchAnAllowListedReferenceAndVerifyItsDigest() {
    // Given a loopback server explicitly allowed, and a reference with the right size and digest
    HttpImageResolver resolver = resolver(loopbackConfig());

    // When
    ResolvedImage image = resolver.resolveNow(ref(url("/img.png"), PNG_SHA, PNG.length));

    // Then
    assertThat(image.bytes()).isEqualTo(PNG);
    assertThat(image.contentType()).isEqualTo("image/png");
    assertThat(hostHeaders).containsExactly("127.0.0.1:" + port);
  }

  @Test
  void shouldFetchReferencesOnItsOwnThreadsAndCompleteTheFuture() {
    try (HttpImageResolver resolver = resolver(loopbackConfig())) {
      CompletableFuture<ResolvedImage> ok =
          resolver.resolve(ref(url("/img.png"), PNG_SHA, PNG.length));
      CompletableFuture<ResolvedImage> refused =
          resolver.resolve(ref(url("/html"), PNG_SHA, PNG.length));

      assertThat(ok.join().bytes()).isEqualTo(PNG);
      assertThat(refusal(refused).reason()).isEqualTo(Reason.CONTENT_TYPE_MISMATCH);
    }
  }

  @Test
  void shouldFollowSameHostRedirectsToTheAddressResolvedOnce() {
    // Given a name whose DNS answer changes after the first lookup (DNS rebinding)
    ImageResolverConfig config =
        loopbackConfig().toBuilder().allowedHosts(List.of("images.test")).build();
    AtomicInteger answers = new AtomicInteger();
    FetchPolicy.HostResolver rebinding =
        host -> {
          lookups.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
          return answers.getAndIncrement() == 0
              ? new InetAddress[] {InetAddress.getLoopbackAddress()}
              : new InetAddress[] {InetAddress.getByName("10.0.0.1")};
        };
    HttpImageResolver resolver =
        new HttpImageResolver(
            config, fetcher(config, rebinding, HttpClientTransport.withDefaultTrust()));

    // When the server redirects within the host
    ResolvedImage image =
        resolver.resolveNow(ref("http://images.test:" + port + "/same-host", PNG_SHA, PNG.length));

    // Then both requests went to the pinned address, under the reference's host name
    assertThat(image.bytes()).isEqualTo(PNG);
    assertThat(lookups.get("images.test")).hasValue(1);
    assertThat(hostHeaders).containsExactly("images.test:" + port, "images.test:" + port);
  }

  // ---- content checks ----

  @Test
  void shouldRefuseAWrongDigestAndNameBothDigests() {
    String wrong = sha256("something else".getBytes(UTF8));

    ImageRefusedException e = refusedNow(loopbackConfig(), ref(url("/img.png"), wrong, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.DIGEST_MISMATCH);
    assertThat(e.retriable()).isFalse();
    assertThat(e.getMessage()).contains(PNG_SHA).contains("expected " + wrong);
  }

  @Test
  void shouldRefuseANonImageContentType() {
    ImageRefusedException e = refusedNow(loopbackConfig(), ref(url("/html"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.CONTENT_TYPE_MISMATCH);
    assertThat(e.getMessage()).contains("text/html").contains("expected image/png");
  }

  @Test
  void shouldRefuseAContentTypeOtherThanTheDeclaredOne() {
    ImageRefusedException e = refusedNow(loopbackConfig(), ref(url("/jpeg"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.CONTENT_TYPE_MISMATCH);
    assertThat(e.getMessage()).contains("'image/jpeg'").contains("expected image/png");
  }

  @Test
  void shouldRefuseABodyOfAnotherSizeThanDeclared() {
    ImageRefusedException e =
        refusedNow(loopbackConfig(), ref(url("/img.png"), PNG_SHA, PNG.length + 1));

    assertThat(e.reason()).isEqualTo(Reason.SIZE_MISMATCH);
    assertThat(e.getMessage())
        .contains("got " + PNG.length + " bytes, declared " + (PNG.length + 1));
  }

  @Test
  void shouldCountTheBodyWhileStreamingAndStopAtTheLimitWithoutContentLength() {
    // Given a server that streams without end, and a declared size equal to the limit
    ImageResolverConfig config = loopbackConfig().toBuilder().maxFetchBytes(64 * 1024).build();

    // When
    ImageRefusedException e = refusedNow(config, ref(url("/endless"), PNG_SHA, 64 * 1024));

    // Then the fetch stops one buffer past the limit, not at a time-out
    assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(e.getMessage()).contains("got at least").contains("limit of 65536");
  }

  @Test
  void shouldRefuseAContentLengthAboveTheLimitBeforeReadingTheBody() {
    ImageResolverConfig config = loopbackConfig().toBuilder().maxFetchBytes(64 * 1024).build();

    ImageRefusedException e = refusedNow(config, ref(url("/huge-length"), PNG_SHA, 64 * 1024));

    assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(e.getMessage()).contains("Content-Length says 52428800 bytes");
  }

  @Test
  void shouldRefuseADeclaredSizeAboveTheLimitWithoutConnecting() {
    ImageResolverConfig config = loopbackConfig().toBuilder().maxFetchBytes(1024).build();

    ImageRefusedException e = refusedNow(config, ref(url("/img.png"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(requests).hasValue(0);
  }

  @Test
  void shouldRefuseANonOkStatusAndMarkServerErrorsRetriable() {
    ImageRefusedException missing =
        refusedNow(loopbackConfig(), ref(url("/missing"), PNG_SHA, PNG.length));
    ImageRefusedException busy =
        refusedNow(loopbackConfig(), ref(url("/busy"), PNG_SHA, PNG.length));

    assertThat(missing.reason()).isEqualTo(Reason.HTTP_STATUS);
    assertThat(missing.retriable()).isFalse();
    assertThat(missing.getMessage()).contains("HTTP status 404");
    assertThat(busy.reason()).isEqualTo(Reason.HTTP_STATUS);
    assertThat(busy.retriable()).isTrue();
  }

  // ---- time ----

  @Test
  void shouldTimeOutWhenTheServerStopsSending() {
    ImageResolverConfig config =
        loopbackConfig().toBuilder()
            .connectTimeout(Duration.ofSeconds(1))
            .readTimeout(Duration.ofMillis(300))
            .totalTimeout(Duration.ofSeconds(10))
            .build();

    // The clock stands still: the 10 s deadline cannot end this fetch, only the read time-out.
    ImageRefusedException e = refusedNow(config, ref(url("/stall"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.TIMEOUT);
    assertThat(e.retriable()).isTrue();
    assertThat(e.getMessage()).contains("no data from the server within PT0.3S");
    assertThat(e.getCause())
        .as("a socket read timed out")
        .isInstanceOf(SocketTimeoutException.class);
  }

  @Test
  void shouldEnforceTheTotalDeadlineAgainstATricklingServer() {
    // Given a server whose every byte arrives well within the read time-out, and a clock that
    // passes the 500 ms budget while the body is still coming
    ImageResolverConfig config =
        loopbackConfig().toBuilder()
            .connectTimeout(Duration.ofSeconds(1))
            .readTimeout(Duration.ofSeconds(2))
            .totalTimeout(Duration.ofMillis(500))
            .build();
    trickleClockJump = Duration.ofMillis(500);

    // When
    ImageRefusedException e = refusedNow(config, ref(url("/trickle"), PNG_SHA, PNG.length));

    // Then the fetch stops at the deadline by its clock, long before the body is complete
    assertThat(e.reason()).isEqualTo(Reason.TIMEOUT);
    assertThat(e.getMessage()).contains("took longer than PT0.5S");
    assertThat(trickled.get()).as("bytes the server sent").isLessThan(PNG.length);
  }

  // ---- redirects ----

  @Test
  void shouldRefuseARedirectToAnotherHostEvenWhenThatHostIsAllowListed() {
    ImageResolverConfig config =
        loopbackConfig().toBuilder().allowedHosts(List.of("127.0.0.1", "localhost")).build();

    ImageRefusedException e = refusedNow(config, ref(url("/other-host"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.REDIRECT_REFUSED);
    assertThat(e.getMessage()).contains("leaves host 127.0.0.1");
    assertThat(requests).as("the other host is never contacted").hasValue(1);
  }

  @Test
  void shouldStopAfterTheConfiguredNumberOfRedirects() {
    ImageResolverConfig config = loopbackConfig().toBuilder().maxRedirects(2).build();

    ImageRefusedException e = refusedNow(config, ref(url("/loop"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.REDIRECT_REFUSED);
    assertThat(e.getMessage()).contains("more than 2 redirects");
    assertThat(requests).hasValue(3);
  }

  // ---- where a reference may point ----

  @Test
  void shouldRefuseLoopbackByDefaultWithoutConnecting() {
    // Given the default address rules: only the host is allow-listed, http enabled
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("127.0.0.1")).allowHttp(true).build();

    ImageRefusedException e = refusedNow(config, ref(url("/img.png"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.ADDRESS_NOT_ALLOWED);
    assertThat(e.getMessage()).contains("127.0.0.1, a loopback address");
    assertThat(requests).hasValue(0);
  }

  @Test
  void shouldRefuseANameThatResolvesToLoopbackByDefault() {
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("localhost")).allowHttp(true).build();
    FetchPolicy.HostResolver dns = host -> new InetAddress[] {InetAddress.getLoopbackAddress()};

    ImageRefusedException e =
        refusedNow(config, dns, ref("http://localhost:" + port + "/img.png", PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.ADDRESS_NOT_ALLOWED);
    assertThat(connections).hasValue(0);
    assertThat(requests).hasValue(0);
  }

  @Test
  void shouldRefuseHttpUnlessEnabled() {
    ImageResolverConfig config = loopbackConfig().toBuilder().allowHttp(false).build();

    ImageRefusedException e = refusedNow(config, ref(url("/img.png"), PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.SCHEME_NOT_ALLOWED);
    assertThat(e.getMessage()).contains("scheme 'http' is not allowed, expected https");
    assertThat(requests).hasValue(0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://127.0.0.1/a.png", "file:///etc/passwd", "s3://bucket/a.png"})
  void shouldRefuseOtherSchemes(String uri) {
    ImageRefusedException e = refusedNow(loopbackConfig(), ref(uri, PNG_SHA, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.SCHEME_NOT_ALLOWED);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mailto:someone@example.com?secret=abcdefghijklmnopqrstuvwxyz",
        "urn:token:abcdefghijklmnopqrstuvwxyz",
        "images/a.png?secret=abcdefghijklmnopqrstuvwxyz"
      })
  void shouldRefuseARelativeOrOpaqueUriWithoutShowingMoreThanItsScheme(String uri) {
    // Given a reference that is not absolute and hierarchical, with a secret after the scheme
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("shop.example")).build();

    // When
    ImageRefusedException e = refusedNow(config, failingDns(), ref(uri, PNG_SHA, 10));

    // Then it is refused, and the message (logged and dead-lettered) does not carry the secret
    assertThat(e.reason()).isEqualTo(Reason.INVALID_REFERENCE);
    assertThat(e.getMessage())
        .contains("expected")
        .doesNotContain("abcdefghijklmnopqrstuvwxyz")
        .doesNotContain("someone");
    assertThat(lookups).isEmpty();
    assertThat(connections).hasValue(0);
  }

  @Test
  void shouldRefuseAHostOffTheAllowListWithoutLookingItUp() {
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("*.shop.example")).build();

    ImageRefusedException e =
        refusedNow(config, failingDns(), ref("https://evil.example.org/a.png", PNG_SHA, 10));

    assertThat(e.reason()).isEqualTo(Reason.HOST_NOT_ALLOWED);
    assertThat(e.getMessage()).contains("host evil.example.org is not in the allow-list");
    assertThat(lookups).isEmpty();
    assertThat(connections).hasValue(0);
  }

  @Test
  void shouldRefuseUserInfoThatDisguisesTheHost() {
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("shop.example")).build();

    ImageRefusedException e =
        refusedNow(
            config, failingDns(), ref("https://shop.example@evil.example.org/a.png", PNG_SHA, 10));

    assertThat(e.reason()).isEqualTo(Reason.INVALID_REFERENCE);
    assertThat(connections).hasValue(0);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1"
      })
  void shouldRefuseNonPublicAddressLiteralsByAddressWithoutConnecting(String address) {
    // Given the literal is allow-listed as a host, so only the address check stands in the way
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of(address)).build();
    String host = address.contains(":") ? "[" + address + "]" : address;

    ImageRefusedException e =
        refusedNow(config, failingDns(), ref("https://" + host + "/a.png", PNG_SHA, 10));

    assertThat(e.reason()).isEqualTo(Reason.ADDRESS_NOT_ALLOWED);
    assertThat(e.getMessage()).contains("which is not allowed");
    assertThat(connections).hasValue(0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.7", "192.168.0.2", "169.254.169.254", "fc00::7", "::1"})
  void shouldRefuseAnAllowListedNameThatResolvesToANonPublicAddress(String address)
      throws UnknownHostException {
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("*.shop.example")).build();
    InetAddress answer = InetAddress.getByName(address);

    ImageRefusedException e =
        refusedNow(
            config,
            host -> new InetAddress[] {answer},
            ref("https://cdn.shop.example/a.png", PNG_SHA, 10));

    assertThat(e.reason()).isEqualTo(Reason.ADDRESS_NOT_ALLOWED);
    assertThat(e.getMessage()).contains("cdn.shop.example resolves to " + answer.getHostAddress());
    assertThat(connections).hasValue(0);
  }

  @Test
  void shouldRefuseANameWhoseAnswersMixPublicAndPrivateAddresses() throws UnknownHostException {
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("cdn.shop.example")).build();
    InetAddress[] answers = {
      InetAddress.getByName("93.184.216.34"), InetAddress.getByName("10.0.0.1")
    };

    ImageRefusedException e =
        refusedNow(config, host -> answers, ref("https://cdn.shop.example/a.png", PNG_SHA, 10));

    assertThat(e.reason()).isEqualTo(Reason.ADDRESS_NOT_ALLOWED);
    assertThat(e.getMessage()).contains("10.0.0.1, a private-network address");
    assertThat(connections).hasValue(0);
  }

  @Test
  void shouldConnectToThePublicAddressItChecked() throws UnknownHostException {
    // Given a public answer; the connector records where it was asked to go and refuses
    ImageResolverConfig config =
        ImageResolverConfig.builder().allowedHosts(List.of("cdn.shop.example")).build();
    InetAddress publicAddress = InetAddress.getByName("93.184.216.34");
    List<InetSocketAddress> attempts = new CopyOnWriteArrayList<>();
    ImageTransport connectsNowhere =
        (host, address) ->
            new ImageTransport.Session() {
              @Override
              public ImageTransport.Response get(URI uri, Duration connect, Duration read)
                  throws IOException {
                int port = uri.getPort() != -1 ? uri.getPort() : 443;
                attempts.add(new InetSocketAddress(address, port));
                throw new IOException("test transport: no traffic leaves this machine");
              }

              @Override
              public void close() {}
            };
    ReferenceFetcher fetcher =
        fetcher(config, host -> new InetAddress[] {publicAddress}, connectsNowhere);

    ImageRefusedException e =
        catchThrowableOfType(
            ImageRefusedException.class,
            () -> fetcher.fetch(ref("https://cdn.shop.example/a.png", PNG_SHA, 10)));

    assertThat(e.reason()).isEqualTo(Reason.IO_ERROR);
    assertThat(e.retriable()).isTrue();
    assertThat(attempts).containsExactly(new InetSocketAddress(publicAddress, 443));
  }

  @Test
  void shouldRefuseAsARetriableTimeoutWhenNoConnectionIsMadeInTime() throws UnknownHostException {
    // Given a transport that cannot connect within the connect time-out
    ImageResolverConfig config =
        ImageResolverConfig.builder()
            .allowedHosts(List.of("cdn.shop.example"))
            .connectTimeout(Duration.ofMillis(700))
            .readTimeout(Duration.ofSeconds(2))
            .totalTimeout(Duration.ofSeconds(5))
            .build();
    InetAddress publicAddress = InetAddress.getByName("93.184.216.34");
    ImageTransport neverConnects =
        (host, address) ->
            new ImageTransport.Session() {
              @Override
              public ImageTransport.Response get(URI uri, Duration connect, Duration read)
                  throws IOException {
                throw new ImageTransport.ConnectTimeout("test transport: connect timed out", null);
              }

              @Override
              public void close() {}
            };

    // When
    ImageRefusedException e =
        catchThrowableOfType(
            ImageRefusedException.class,
            () ->
                fetcher(config, host -> new InetAddress[] {publicAddress}, neverConnects)
                    .fetch(ref("https://cdn.shop.example/a.png", PNG_SHA, 10)));

    // Then
    assertThat(e.reason()).isEqualTo(Reason.TIMEOUT);
    assertThat(e.retriable()).isTrue();
    assertThat(e.getMessage()).contains("no connection to 93.184.216.34 within 700 ms");
  }

  @Test
  void shouldPinTheHttpClientsResolverToTheCheckedAddressAndLookNothingUp() throws Exception {
    // Given the resolver hook the HTTP client connects through, pinned to a checked address
    InetAddress checked = InetAddress.getByName("93.184.216.34");
    HttpClientTransport.PinnedDnsResolver pinned =
        new HttpClientTransport.PinnedDnsResolver("CDN.Shop.Example.", checked);

    // Then the fetch's host gets that address, whatever its spelling, and any other name none
    assertThat(pinned.resolve("cdn.shop.example")).containsExactly(checked);
    assertThat(pinned.resolve("cdn.shop.example", 8443))
        .containsExactly(new InetSocketAddress(checked, 8443));
    assertThatThrownBy(() -> pinned.resolve("metadata.internal"))
        .isInstanceOf(UnknownHostException.class)
        .hasMessageContaining("connects to cdn.shop.example only");
  }

  @Test
  void shouldKeepQueryStringsOutOfRefusalMessages() {
    String wrong = sha256(new byte[] {1});

    ImageRefusedException e =
        refusedNow(
            loopbackConfig(), ref(url("/img.png") + "?X-Amz-Signature=s3cr3t", wrong, PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.DIGEST_MISMATCH);
    assertThat(e.getMessage()).doesNotContain("s3cr3t").contains("/img.png?…");
  }

  @Test
  void shouldRefuseAMalformedDigestBeforeFetching() {
    ImageRefusedException e =
        refusedNow(loopbackConfig(), ref(url("/img.png"), PNG_SHA.toUpperCase(), PNG.length));

    assertThat(e.reason()).isEqualTo(Reason.INVALID_REFERENCE);
    assertThat(requests).hasValue(0);
  }

  // ---- inline images ----

  @Test
  void shouldAcceptAnInlineImageWithinTheLimit() {
    HttpImageResolver resolver =
        resolver(ImageResolverConfig.builder().maxInlineBytes(4096).build());

    ResolvedImage image = resolver.resolve(inline(PNG, "image/png")).join();

    assertThat(image.bytes()).isEqualTo(PNG);
    assertThat(image.contentType()).isEqualTo("image/png");
  }

  @Test
  void shouldRefuseAnInlineImageOverTheLimit() {
    HttpImageResolver resolver =
        resolver(ImageResolverConfig.builder().maxInlineBytes(2999).build());

    ImageRefusedException e = refusal(resolver.resolve(inline(PNG, "image/png")));

    assertThat(e.reason()).isEqualTo(Reason.TOO_LARGE);
    assertThat(e.retriable()).isFalse();
    assertThat(e.getMessage())
        .isEqualTo("inline image has 3000 bytes, more than the limit of 2999");
  }

  @Test
  void shouldRefuseAnEmptyOrNonImageInlineImage() {
    HttpImageResolver resolver = resolver(ImageResolverConfig.defaults());

    assertThat(refusal(resolver.resolve(inline(new byte[0], "image/png"))).reason())
        .isEqualTo(Reason.EMPTY);
    assertThat(refusal(resolver.resolve(inline(PNG, "text/plain"))).reason())
        .isEqualTo(Reason.CONTENT_TYPE_MISMATCH);
  }

  @Test
  void shouldRefuseAValueThatIsNeitherInlineNorAReference() {
    // Given the resolver takes the image union alone, typed Object as Avro types it
    HttpImageResolver resolver = resolver(ImageResolverConfig.defaults());

    // When it is handed nothing, or something else
    ImageRefusedException none = refusal(resolver.resolve(null));
    ImageRefusedException other = refusal(resolver.resolve("https://img.test/a.png"));

    // Then both are refused for good, saying what came instead
    assertThat(none.reason()).isEqualTo(Reason.INVALID_REFERENCE);
    assertThat(none.retriable()).isFalse();
    assertThat(none.getMessage())
        .contains("expected an InlineImage or an ImageReference, got null");
    assertThat(other.reason()).isEqualTo(Reason.INVALID_REFERENCE);
    assertThat(other.getMessage()).contains("got String");
    assertThat(requests).hasValue(0);
  }

  // ---- capacity ----

  @Test
  void shouldRefuseAsRetriableWhenTheFetchQueueIsFull() {
    // Given one fetch thread busy on a stalled server and one fetch waiting
    ImageResolverConfig config =
        loopbackConfig().toBuilder().fetchThreads(1).maxQueuedFetches(1).build();
    try (HttpImageResolver resolver = resolver(config)) {
      CompletableFuture<ResolvedImage> running =
          resolver.resolve(ref(url("/stall"), PNG_SHA, PNG.length));
      CompletableFuture<ResolvedImage> waiting =
          resolver.resolve(ref(url("/img.png"), PNG_SHA, PNG.length));

      // When a third arrives
      CompletableFuture<ResolvedImage> third =
          resolver.resolve(ref(url("/img.png"), PNG_SHA, PNG.length));

      // Then it is refused at once, as retriable; the others finish once the server moves on
      ImageRefusedException e = refusal(third);
      assertThat(e.reason()).isEqualTo(Reason.IO_ERROR);
      assertThat(e.retriable()).isTrue();
      assertThat(e.getMessage()).contains("1 fetches are already waiting");
      release.countDown();
      assertThat(waiting.join().bytes()).isEqualTo(PNG);
      assertThat(refusal(running).reason()).isIn(Reason.IO_ERROR, Reason.DIGEST_MISMATCH);
    }
  }

  @Test
  void shouldRefuseAfterClose() {
    HttpImageResolver resolver = resolver(loopbackConfig());
    resolver.close();

    ImageRefusedException e = refusal(resolver.resolve(ref(url("/img.png"), PNG_SHA, PNG.length)));

    assertThat(e.getMessage()).contains("the resolver is closed");
  }

  // ---- helpers ----

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  /** http to 127.0.0.1 with loopback explicitly allowed: the only traffic these tests send. */
  private static ImageResolverConfig loopbackConfig() {
    return ImageResolverConfig.builder()
        .allowedHosts(List.of("127.0.0.1"))
        .allowHttp(true)
        .allowLoopback(true)
        .connectTimeout(Duration.ofSeconds(2))
        .readTimeout(Duration.ofSeconds(2))
        .totalTimeout(Duration.ofSeconds(5))
        .build();
  }

  private HttpImageResolver resolver(ImageResolverConfig config) {
    return new HttpImageResolver(
        config, fetcher(config, FetchPolicy.SYSTEM_DNS, countingTransport()));
  }

  private ReferenceFetcher fetcher(
      ImageResolverConfig config, FetchPolicy.HostResolver dns, ImageTransport transport) {
    return new ReferenceFetcher(config, dns, transport, clock::get);
  }

  /** The real transport, counting the requests it is sent and allowing loopback targets only. */
  private ImageTransport countingTransport() {
    ImageTransport real = HttpClientTransport.withDefaultTrust();
    return (host, address) -> {
      assertThat(address.isLoopbackAddress())
          .as("tests connect to loopback only, not %s", address)
          .isTrue();
      ImageTransport.Session session = real.open(host, address);
      return new ImageTransport.Session() {
        @Override
        public ImageTransport.Response get(URI uri, Duration connect, Duration read)
            throws IOException {
          connections.incrementAndGet();
          return session.get(uri, connect, read);
        }

        @Override
        public void close() throws IOException {
          session.close();
        }
      };
    };
  }

  /** DNS that must not be asked: records the question and fails. */
  private FetchPolicy.HostResolver failingDns() {
    return host -> {
      lookups.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
      throw new UnknownHostException("test DNS: " + host + " must not be looked up");
    };
  }

  private ImageRefusedException refusedNow(ImageResolverConfig config, ImageReference ref) {
    return refusedNow(config, FetchPolicy.SYSTEM_DNS, ref);
  }

  private ImageRefusedException refusedNow(
      ImageResolverConfig config, FetchPolicy.HostResolver dns, ImageReference ref) {
    HttpImageResolver resolver =
        new HttpImageResolver(config, fetcher(config, dns, countingTransport()));
    ImageRefusedException e =
        catchThrowableOfType(ImageRefusedException.class, () -> resolver.resolveNow(ref));
    assertThat(e).as("expected %s to be refused", ref.getUri()).isNotNull();
    return e;
  }

  private static ImageRefusedException refusal(CompletableFuture<ResolvedImage> future) {
    Throwable thrown = catchThrowableOfType(CompletionException.class, future::join);
    assertThat(thrown).as("the future should fail").isNotNull();
    assertThat(thrown.getCause()).isInstanceOf(ImageRefusedException.class);
    return (ImageRefusedException) thrown.getCause();
  }

  private String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  private static ImageReference ref(String uri, String sha, long size) {
    return new ImageReference(uri, sha, "image/png", size);
  }

  private static InlineImage inline(byte[] data, String type) {
    return new InlineImage(ByteBuffer.wrap(data), type);
  }

  @FunctionalInterface
  private interface Handler {
    void handle(HttpExchange exchange) throws IOException;
  }

  private void handle(String path, Handler handler) {
    server.createContext(
        path,
        exchange -> {
          requests.incrementAndGet();
          hostHeaders.add(exchange.getRequestHeaders().getFirst("Host"));
          try {
            handler.handle(exchange);
          } finally {
            exchange.close();
          }
        });
  }

  private static void send(HttpExchange ex, int status, String type, byte[] body)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private static void redirect(HttpExchange ex, String location) throws IOException {
    ex.getResponseHeaders().set("Location", location);
    ex.sendResponseHeaders(302, -1);
  }

  /** Waits on the latch (a server-side pause that ends early when the test ends). */
  private static boolean await(CountDownLatch latch, long millis) {
    try {
      return latch.await(millis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
  }

  private static byte[] pngLikeBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(42).nextBytes(bytes);
    byte[] magic = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    System.arraycopy(magic, 0, bytes, 0, magic.length);
    return bytes;
  }

  private static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(FetchPolicy.sha256().digest(bytes));
  }

  @Test
  void shouldRejectInvalidConfiguration() {
    assertThatThrownBy(() -> ImageResolverConfig.builder().allowedHosts(List.of("*")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("allowedHosts entry");
    assertThatThrownBy(() -> ImageResolverConfig.builder().allowedHosts(List.of("*.com")).build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ImageResolverConfig.builder().maxRedirects(-1).build())
        .hasMessage("maxRedirects must be >= 0, got -1");
    assertThatThrownBy(
            () ->
                ImageResolverConfig.builder()
                    .connectTimeout(Duration.ZERO)
                    .readTimeout(Duration.ofSeconds(1))
                    .totalTimeout(Duration.ofSeconds(1))
                    .build())
        .hasMessageContaining("connectTimeout must be positive");
  }

  @Test
  void shouldMatchExactHostsAndSubdomainWildcardsCaseInsensitively() {
    ImageResolverConfig config =
        ImageResolverConfig.builder()
            .allowedHosts(List.of("Images.Shop.Example.", "*.cdn.example"))
            .build();

    assertThat(config.allowedHosts()).containsExactly("images.shop.example", "*.cdn.example");
    assertThat(config.hostAllowed("images.shop.example")).isTrue();
    assertThat(config.hostAllowed("a.cdn.example")).isTrue();
    assertThat(config.hostAllowed("a.b.cdn.example")).isTrue();
    assertThat(config.hostAllowed("cdn.example")).isFalse();
    assertThat(config.hostAllowed("evilcdn.example")).isFalse();
    assertThat(config.hostAllowed("shop.example")).isFalse();
    assertThat(config.hostAllowed("images.shop.example.evil.org")).isFalse();
  }
}
