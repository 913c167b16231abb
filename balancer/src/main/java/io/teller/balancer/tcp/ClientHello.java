package io.teller.balancer.tcp;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Reads the server name (SNI, RFC 6066) from the first bytes of a TLS connection, without
 * terminating TLS. The bytes are one or more TLS records of type handshake carrying a ClientHello
 * (RFC 8446 4.1.2, RFC 5246 7.4.1.2); the hello may span records, and is read whole (at most {@link
 * #MAX_HELLO_BYTES}) before it is judged.
 *
 * <p>Written by hand because Netty's {@code SniHandler} needs the channel pipeline, which Vert.x
 * does not expose outside its internal packages. Pure: tests call it on byte arrays.
 */
public final class ClientHello {

  /** The most a ClientHello may take (one full record's payload). */
  public static final int MAX_HELLO_BYTES = 16 * 1024;

  private static final int RECORD_HEADER = 5;
  private static final int HANDSHAKE = 22;
  private static final int CLIENT_HELLO = 1;
  private static final int SERVER_NAME = 0;
  private static final int HOST_NAME = 0;

  /** What the bytes so far say. */
  public sealed interface Result {}

  /** Not a whole ClientHello yet: read more. */
  public record NeedMore() implements Result {}

  /** A whole ClientHello; {@code serverName} is lower case, or null when it names no server. */
  public record Hello(String serverName) implements Result {}

  /** Not a TLS ClientHello, or larger than allowed: close the connection. */
  public record NotTls(String reason) implements Result {}

  private static final NeedMore NEED_MORE = new NeedMore();

  private ClientHello() {}

  /** Judges the first bytes of a connection. */
  public static Result read(Buffer bytes) {
    // Gather the handshake bytes from as many records as there are whole.
    Buffer handshake = Buffer.buffer();
    int at = 0;
    while (true) {
      if (bytes.length() - at < RECORD_HEADER) {
        return tooLong(bytes)
            ? new NotTls("ClientHello over " + MAX_HELLO_BYTES + " bytes")
            : NEED_MORE;
      }
      int type = bytes.getUnsignedByte(at);
      int major = bytes.getUnsignedByte(at + 1);
      int length = bytes.getUnsignedShort(at + 3);
      if (type != HANDSHAKE || major != 3) {
        return new NotTls("not a TLS handshake");
      }
      if (length == 0 || length > MAX_HELLO_BYTES + 2048) {
        return new NotTls("bad TLS record length " + length);
      }
      if (bytes.length() - at - RECORD_HEADER < length) {
        return tooLong(bytes)
            ? new NotTls("ClientHello over " + MAX_HELLO_BYTES + " bytes")
            : NEED_MORE;
      }
      handshake.appendBuffer(bytes, at + RECORD_HEADER, length);
      at += RECORD_HEADER + length;
      if (handshake.length() >= 4) {
        if (handshake.getUnsignedByte(0) != CLIENT_HELLO) {
          return new NotTls("the first handshake message is not a ClientHello");
        }
        int helloLength = handshake.getUnsignedMedium(1);
        if (helloLength > MAX_HELLO_BYTES) {
          return new NotTls("ClientHello over " + MAX_HELLO_BYTES + " bytes");
        }
        if (handshake.length() >= 4 + helloLength) {
          return parse(handshake.slice(4, 4 + helloLength));
        }
      }
    }
  }

  private static boolean tooLong(Buffer bytes) {
    return bytes.length() > MAX_HELLO_BYTES + 4 * RECORD_HEADER + 4;
  }

  /** Walks the ClientHello body to the server_name extension. */
  private static Result parse(Buffer hello) {
    try {
      int at = 2 + 32; // client_version, random
      at += 1 + hello.getUnsignedByte(at); // session_id
      at += 2 + hello.getUnsignedShort(at); // cipher_suites
      at += 1 + hello.getUnsignedByte(at); // compression_methods
      if (at == hello.length()) {
        return new Hello(null); // no extensions at all
      }
      int end = at + 2 + hello.getUnsignedShort(at);
      at += 2;
      if (end > hello.length()) {
        return new NotTls("malformed ClientHello extensions");
      }
      while (at + 4 <= end) {
        int type = hello.getUnsignedShort(at);
        int length = hello.getUnsignedShort(at + 2);
        at += 4;
        if (at + length > end) {
          return new NotTls("malformed ClientHello extension");
        }
        if (type == SERVER_NAME) {
          return new Hello(serverName(hello.slice(at, at + length)));
        }
        at += length;
      }
      return new Hello(null);
    } catch (IndexOutOfBoundsException e) {
      return new NotTls("malformed ClientHello");
    }
  }

  private static String serverName(Buffer extension) {
    int end = 2 + extension.getUnsignedShort(0);
    int at = 2;
    while (at + 3 <= end) {
      int type = extension.getUnsignedByte(at);
      int length = extension.getUnsignedShort(at + 1);
      at += 3;
      if (type == HOST_NAME) {
        return new String(extension.getBytes(at, at + length), StandardCharsets.US_ASCII)
            .toLowerCase(Locale.ROOT);
      }
      at += length;
    }
    return null;
  }
}
