package io.shoplens.processor.topology;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * A key of the expiry index store ({@value ShopLensTopology#EXPIRY_STORE}): when, what kind of
 * entry, and its key in the store it expires from. The serialized form sorts by expiry time first
 * (19 zero-padded digits, so byte order is numeric order for times from 0), then by kind, then by
 * key: iterating the store in key order meets what expires first first, and can stop at the first
 * key not yet due.
 *
 * @param expiresAt wall-clock time at which the entry expires (negative times are stored as 0)
 * @param kind which store the entry expires from
 * @param key the entry's key in that store
 */
record ExpiryKey(long expiresAt, Kind kind, String key) {

  /** The store an expiring entry lives in; the tag is its one-character code in the index key. */
  enum Kind {
    /** An upload kept for the questions about it ({@value ShopLensTopology#UPLOADS_STORE}). */
    UPLOAD('U'),
    /** A question waiting for its upload ({@value ShopLensTopology#WAITING_QUESTIONS_STORE}). */
    WAITING_QUESTION('W'),
    /** An idle conversation ({@value ShopLensTopology#CONVERSATIONS_STORE}). */
    CONVERSATION('C');

    final char tag;

    Kind(char tag) {
      this.tag = tag;
    }

    static Kind of(char tag) {
      for (Kind k : values()) {
        if (k.tag == tag) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown expiry kind '" + tag + "'");
    }
  }

  private static final int TIME_DIGITS = 19;
  private static final char SEP = '|';

  ExpiryKey {
    expiresAt = Math.max(0, expiresAt);
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
  }

  /** The index key: time, kind tag and store key, e.g. {@code 0000000000000001000|U|u1}. */
  String encode() {
    return String.format("%0" + TIME_DIGITS + "d%c%c%c%s", expiresAt, SEP, kind.tag, SEP, key);
  }

  /**
   * Reads an index key written by {@link #encode}.
   *
   * @throws IllegalArgumentException for anything else
   */
  static ExpiryKey decode(String encoded) {
    if (encoded.length() < TIME_DIGITS + 3
        || encoded.charAt(TIME_DIGITS) != SEP
        || encoded.charAt(TIME_DIGITS + 2) != SEP) {
      throw new IllegalArgumentException("not an expiry index key: " + encoded);
    }
    long time;
    try {
      time = Long.parseLong(encoded.substring(0, TIME_DIGITS));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an expiry index key: " + encoded, e);
    }
    return new ExpiryKey(
        time, Kind.of(encoded.charAt(TIME_DIGITS + 1)), encoded.substring(TIME_DIGITS + 3));
  }

  /**
   * The index store's key serde, its one codec: {@link #encode} as UTF-8 text (readable in the
   * changelog). Byte order of the serialized keys is expiry order, so iterating the store in key
   * order meets the earliest expiry first.
   */
  static Serde<ExpiryKey> serde() {
    return Serdes.serdeFrom(
        (topic, k) -> k == null ? null : k.encode().getBytes(StandardCharsets.UTF_8),
        (topic, bytes) -> bytes == null ? null : decode(new String(bytes, StandardCharsets.UTF_8)));
  }
}
