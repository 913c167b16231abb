package io.teller.balancer.edge;

/**
 * What one HTTP/1.x request head may be, and how long it may take to arrive.
 *
 * @param requestLineBytes the request line, CRLF excluded; longer: {@code 414}
 * @param headerBytes the header section after the request line; larger: {@code 431}
 * @param headerFields header fields in one head; more: {@code 431}
 * @param headTimeoutMillis from a head's first byte to its last (HAProxy's {@code timeout
 *     http-request}); later: {@code 408} and the connection closed
 */
public record EdgeLimits(
    int requestLineBytes, int headerBytes, int headerFields, long headTimeoutMillis) {

  public static final int DEFAULT_REQUEST_LINE_BYTES = 8192;
  public static final int DEFAULT_HEADER_BYTES = 32768;
  public static final int DEFAULT_HEADER_FIELDS = 100;
  public static final long DEFAULT_HEAD_TIMEOUT_MILLIS = 10_000;

  public EdgeLimits {
    if (requestLineBytes < 16 || headerBytes < 64 || headerFields < 1 || headTimeoutMillis < 1) {
      throw new IllegalArgumentException("limits too small: " + this);
    }
  }

  /** The defaults: 8 KiB request line, 32 KiB of header fields, 100 fields, 10 s. */
  public static EdgeLimits defaults() {
    return new EdgeLimits(
        DEFAULT_REQUEST_LINE_BYTES,
        DEFAULT_HEADER_BYTES,
        DEFAULT_HEADER_FIELDS,
        DEFAULT_HEAD_TIMEOUT_MILLIS);
  }
}
