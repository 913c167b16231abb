package io.teller.backend;

import io.vertx.core.buffer.Buffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * The bytes {@code GET /download?bytes=N&seed=S} sends: byte {@code i} of the body is byte {@code i
 * mod 65521} of the {@link #PERIOD} bytes that {@code new java.util.SplittableRandom(S).nextBytes}
 * fills. A client computes the expected SHA-256 with {@link #sha256(long, long)} (or by generating
 * the same bytes), independently of what it received.
 *
 * <p>The period is prime, so it never lines up with chunk or buffer sizes (powers of two): a chunk
 * that is lost, repeated or reordered in transit changes the hash.
 */
public final class DownloadPattern {

  /** Length of the repeating pattern: the largest prime below 64 KiB. */
  public static final int PERIOD = 65_521;

  /** The longest slice {@link #chunk} gives. */
  public static final int MAX_CHUNK = 64 * 1024;

  /** The pattern followed by its own start, so any slice of up to MAX_CHUNK bytes is contiguous. */
  private final byte[] bytes;

  private final Buffer buffer;

  private DownloadPattern(long seed) {
    byte[] period = new byte[PERIOD];
    new SplittableRandom(seed).nextBytes(period);
    bytes = new byte[PERIOD + MAX_CHUNK];
    System.arraycopy(period, 0, bytes, 0, PERIOD);
    for (int i = 0; i < MAX_CHUNK; i++) {
      // MAX_CHUNK is a little longer than PERIOD: the tail wraps around once more.
      bytes[PERIOD + i] = period[i % PERIOD];
    }
    buffer = Buffer.buffer(bytes);
  }

  /** The pattern of {@code seed}. */
  public static DownloadPattern of(long seed) {
    return new DownloadPattern(seed);
  }

  /** Byte {@code position} of the stream. */
  public byte byteAt(long position) {
    return bytes[(int) (position % PERIOD)];
  }

  /** A copy of the {@code length} bytes at {@code position}, at most {@link #MAX_CHUNK}. */
  public Buffer chunk(long position, int length) {
    if (length < 0 || length > MAX_CHUNK) {
      throw new IllegalArgumentException(
          "chunk length " + length + " is not within 0.." + MAX_CHUNK);
    }
    int start = (int) (position % PERIOD);
    // A copy: a write may hold on to it after the next chunk is cut.
    return buffer.getBuffer(start, start + length);
  }

  /** Feeds the {@code length} bytes at {@code position} (at most MAX_CHUNK) to {@code digest}. */
  public void update(MessageDigest digest, long position, int length) {
    if (length < 0 || length > MAX_CHUNK) {
      throw new IllegalArgumentException(
          "chunk length " + length + " is not within 0.." + MAX_CHUNK);
    }
    digest.update(bytes, (int) (position % PERIOD), length);
  }

  /** The hex SHA-256 of the first {@code length} bytes of the stream of {@code seed}. */
  public static String sha256(long seed, long length) {
    DownloadPattern pattern = of(seed);
    MessageDigest digest = newSha256();
    for (long position = 0; position < length; position += MAX_CHUNK) {
      pattern.update(digest, position, (int) Math.min(MAX_CHUNK, length - position));
    }
    return hex(digest);
  }

  /** A fresh SHA-256 digest (every JVM has one). */
  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  /** The digest's value in lower-case hex. */
  public static String hex(MessageDigest digest) {
    return HexFormat.of().formatHex(digest.digest());
  }
}
