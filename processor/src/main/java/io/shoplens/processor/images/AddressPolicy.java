package io.shoplens.processor.images;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Classifies the addresses a reference's host resolves to, so that a fetch never reaches the
 * instance's own machine, its private network or a cloud metadata endpoint (169.254.169.254) unless
 * the configuration says so. Works on the address bytes alone: no lookup, no connection.
 */
final class AddressPolicy {

  /** What kind of network an address belongs to. */
  enum Kind {
    PUBLIC("a public address"),
    LOOPBACK("a loopback address"),
    PRIVATE("a private-network address"),
    LINK_LOCAL("a link-local address"),
    MULTICAST("a multicast address"),
    UNSPECIFIED("the unspecified address"),
    RESERVED("a reserved or special-purpose address");

    final String description;

    Kind(String description) {
      this.description = description;
    }
  }

  private AddressPolicy() {}

  /** Whether a host that resolves to {@code address} may be fetched from under {@code config}. */
  static boolean allowed(InetAddress address, ImageResolverConfig config) {
    return switch (classify(address)) {
      case PUBLIC -> true;
      case LOOPBACK -> config.allowLoopback();
      case PRIVATE, LINK_LOCAL -> config.allowPrivateNetworks();
      case MULTICAST, UNSPECIFIED, RESERVED -> false;
    };
  }

  static Kind classify(InetAddress address) {
    byte[] b = address.getAddress();
    if (address instanceof Inet4Address) {
      return classifyV4(b);
    }
    if (address instanceof Inet6Address) {
      return classifyV6(b);
    }
    return Kind.RESERVED;
  }

  private static Kind classifyV4(byte[] b) {
    int a0 = b[0] & 0xff;
    int a1 = b[1] & 0xff;
    if (a0 == 0) {
      // 0.0.0.0/8 "this network": connecting to 0.0.0.0 reaches the local machine on Linux.
      return b[1] == 0 && b[2] == 0 && b[3] == 0 ? Kind.UNSPECIFIED : Kind.RESERVED;
    }
    if (a0 == 127) {
      return Kind.LOOPBACK;
    }
    if (a0 == 10 || (a0 == 172 && a1 >= 16 && a1 <= 31) || (a0 == 192 && a1 == 168)) {
      return Kind.PRIVATE;
    }
    if (a0 == 100 && a1 >= 64 && a1 <= 127) {
      return Kind.PRIVATE; // 100.64.0.0/10, carrier-grade NAT: someone's internal network
    }
    if (a0 == 169 && a1 == 254) {
      return Kind.LINK_LOCAL;
    }
    if (a0 >= 224 && a0 <= 239) {
      return Kind.MULTICAST;
    }
    if (a0 >= 240) {
      return Kind.RESERVED; // 240.0.0.0/4 and the broadcast address
    }
    if ((a0 == 192 && a1 == 0 && (b[2] & 0xff) == 0)
        || (a0 == 198 && (a1 == 18 || a1 == 19))
        || (a0 == 192 && a1 == 0 && (b[2] & 0xff) == 2)
        || (a0 == 198 && a1 == 51 && (b[2] & 0xff) == 100)
        || (a0 == 203 && a1 == 0 && (b[2] & 0xff) == 113)) {
      return Kind.RESERVED; // IETF protocol assignments, benchmarking, documentation ranges
    }
    return Kind.PUBLIC;
  }

  private static Kind classifyV6(byte[] b) {
    boolean first12Zero = true;
    for (int i = 0; i < 12; i++) {
      first12Zero &= b[i] == 0;
    }
    if (first12Zero) {
      // ::, ::1, and the deprecated IPv4-compatible ::a.b.c.d
      if ((b[12] | b[13] | b[14]) == 0 && (b[15] == 0 || b[15] == 1)) {
        return b[15] == 0 ? Kind.UNSPECIFIED : Kind.LOOPBACK;
      }
      return classifyV4(tail4(b, 12));
    }
    if (isZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
      return classifyV4(tail4(b, 12)); // IPv4-mapped ::ffff:a.b.c.d
    }
    if (b[0] == 0x00 && b[1] == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
      // NAT64 64:ff9b::/96 (and 64:ff9b:1::/48): the gateway forwards to the embedded IPv4.
      return classifyV4(tail4(b, 12));
    }
    if (b[0] == 0x20 && b[1] == 0x02) {
      return classifyV4(tail4(b, 2)); // 6to4 2002:a.b.c.d::/48
    }
    int b0 = b[0] & 0xff;
    if ((b0 & 0xfe) == 0xfc) {
      return Kind.PRIVATE; // fc00::/7 unique local
    }
    if (b0 == 0xfe && (b[1] & 0xc0) == 0x80) {
      return Kind.LINK_LOCAL; // fe80::/10
    }
    if (b0 == 0xfe && (b[1] & 0xc0) == 0xc0) {
      return Kind.PRIVATE; // fec0::/10, deprecated site-local
    }
    if (b0 == 0xff) {
      return Kind.MULTICAST;
    }
    if (b0 == 0x20 && b[1] == 0x01 && (b[2] | b[3]) == 0) {
      return Kind.RESERVED; // 2001::/32 Teredo tunnels an address we cannot check
    }
    if (b0 == 0x20 && b[1] == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8) {
      return Kind.RESERVED; // 2001:db8::/32 documentation
    }
    return Kind.PUBLIC;
  }

  private static boolean isZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static byte[] tail4(byte[] b, int offset) {
    return new byte[] {b[offset], b[offset + 1], b[offset + 2], b[offset + 3]};
  }

  /** Parses an IP literal (dotted IPv4, or IPv6 without brackets) without any DNS lookup. */
  static InetAddress literal(String host) throws UnknownHostException {
    // getByName does no lookup for a literal; the pattern check keeps names away from it.
    return InetAddress.getByName(host);
  }

  /** Whether {@code host} (normalized) is an IP literal rather than a name to look up. */
  static boolean isLiteral(String host) {
    return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }
}
