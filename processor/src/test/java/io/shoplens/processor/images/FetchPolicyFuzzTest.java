package io.shoplens.processor.images;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.shoplens.events.ImageReference;
import io.shoplens.processor.images.ImageResolver.ImageRefusedException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Any reference a producer may send, and any allow-list an operator may configure, through the
 * reference policy. The input is UTF-8 lines: URI, SHA-256, content type, declared size, then the
 * allow-list (comma-separated) and flags ({@code http}, {@code loopback}, {@code private}).
 *
 * <p>Outcomes allowed: the configuration is refused with an IllegalArgumentException, or the
 * reference is refused with an {@link ImageRefusedException}, or it is accepted. An accepted
 * reference must keep every promise the policy makes: an allowed scheme, no user info, an
 * allow-listed host, a declared size within the limit; and its shown form, which goes to logs and
 * dead letters, carries neither user info nor query. Redaction never throws. Name lookups answer a
 * fixed public address, so no fuzz input leaves the machine.
 */
class FetchPolicyFuzzTest {
  private static final InetAddress PUBLIC;

  static {
    try {
      PUBLIC = InetAddress.getByAddress("public.example", new byte[] {93, (byte) 184, 0, 1});
    } catch (UnknownHostException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "5m")
  void shouldAcceptOnlyReferencesThatKeepEveryPolicyRule(byte[] input) {
    String[] lines = new String(input, StandardCharsets.UTF_8).split("\n", -1);
    String uri = line(lines, 0);
    String sha = line(lines, 1);
    String contentType = line(lines, 2);
    long size = parseLong(line(lines, 3));
    String hosts = line(lines, 4);
    String flags = line(lines, 5);

    assertThat(FetchPolicy.redact(uri)).isNotNull();

    ImageResolverConfig config;
    try {
      config =
          ImageResolverConfig.builder()
              .allowedHosts(hosts.isEmpty() ? List.of() : Arrays.asList(hosts.split(",", -1)))
              .allowHttp(flags.contains("http"))
              .allowLoopback(flags.contains("loopback"))
              .allowPrivateNetworks(flags.contains("private"))
              .build();
    } catch (IllegalArgumentException refusedConfig) {
      return;
    }
    // The validated allow-list never holds a catch-all.
    for (String pattern : config.allowedHosts()) {
      String name = pattern.startsWith("*.") ? pattern.substring(2) : pattern;
      assertThat(name)
          .isNotEmpty()
          .doesNotContain("*")
          .contains(pattern.startsWith("*.") ? "." : "");
    }

    FetchPolicy policy = new FetchPolicy(config, host -> new InetAddress[] {PUBLIC});
    ImageReference ref =
        ImageReference.newBuilder()
            .setUri(uri)
            .setSha256(sha)
            .setContentType(contentType)
            .setSizeBytes(size)
            .build();
    FetchPolicy.Checked checked;
    try {
      checked = policy.check(ref);
    } catch (ImageRefusedException refused) {
      assertThat(refused.reason()).isNotNull();
      // The URI's query stays out of the message. A message may echo another field that came
      // instead of what was expected (a malformed sha256, a content type); when that field holds
      // the same text, the message cannot tell where it came from, so only the URI is judged.
      String secret = "?" + nullToEmpty(queryOf(uri)).strip();
      String otherFields = String.join("\n", Arrays.asList(lines).subList(1, lines.length));
      if (!otherFields.contains(secret)) {
        assertThat(refused.getMessage()).doesNotContain(secret);
      }
      return;
    }
    String scheme = checked.uri().getScheme().toLowerCase(Locale.ROOT);
    assertThat(scheme).isIn(config.allowHttp() ? List.of("https", "http") : List.of("https"));
    assertThat(checked.uri().getRawUserInfo()).isNull();
    assertThat(config.hostAllowed(checked.host())).isTrue();
    assertThat(checked.size()).isBetween(1L, config.maxFetchBytes());
    assertThat(checked.mediaType()).startsWith("image/");
    // No user info in the shown authority; '@' may stand in a path (RFC 3986 pchar).
    String afterScheme = checked.shown().substring(checked.shown().indexOf("://") + 3);
    int pathStart = afterScheme.indexOf('/');
    assertThat(pathStart < 0 ? afterScheme : afterScheme.substring(0, pathStart))
        .doesNotContain("@");
    String query = checked.uri().getRawQuery();
    if (query != null && !query.isEmpty() && !query.startsWith("\u2026")) {
      assertThat(checked.shown()).doesNotContain("?" + query);
    }
    try {
      InetAddress address = policy.resolveAndCheck(checked.host(), checked.shown());
      assertThat(AddressPolicy.allowed(address, config)).isTrue();
    } catch (ImageRefusedException refused) {
      assertThat(refused.reason()).isNotNull();
    }
  }

  private static String line(String[] lines, int i) {
    return i < lines.length ? lines[i] : "";
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      return s.length();
    }
  }

  private static String queryOf(String uri) {
    int q = uri.indexOf('?');
    // Only a query long enough to be a secret is worth looking for in a message.
    return q >= 0 && uri.length() - q > 16 ? uri.substring(q + 1) : null;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "\u0000never-in-a-message" : s;
  }
}
