package io.teller.balancer.edge;

/**
 * Why the edge refused a request before anything reached an instance: the status the client gets
 * and the short label it is counted under ({@code teller_rejected_requests_total{reason}}). The
 * label set is fixed so that hostile input cannot grow the metric's cardinality; the detail of each
 * refusal goes to the client's body and the access log.
 */
public enum Rejection {
  REQUEST_LINE(400, "request-line"),
  URI_TOO_LONG(414, "uri-too-long"),
  HEADERS_TOO_LARGE(431, "headers-too-large"),
  TOO_MANY_FIELDS(431, "too-many-fields"),
  HTTP_VERSION(505, "http-version"),
  LINE_ENDING(400, "line-ending"),
  FOLDED_FIELD(400, "folded-field"),
  FIELD_NAME(400, "field-name"),
  FIELD_VALUE(400, "field-value"),
  TRANSFER_ENCODING(400, "transfer-encoding"),
  CONTENT_LENGTH(400, "content-length"),
  HOST(400, "host"),
  REQUEST_TARGET(400, "request-target"),
  PATH(400, "path"),
  METHOD(405, "method"),
  CHUNK_FRAMING(400, "chunk-framing"),
  HEAD_TIMEOUT(408, "head-timeout"),
  CONNECTION_LIMIT(503, "connection-limit");

  private final int status;
  private final String label;

  Rejection(int status, String label) {
    this.status = status;
    this.label = label;
  }

  /** The HTTP status the client is answered with. */
  public int status() {
    return status;
  }

  /** The metric label and access-log reason. */
  public String label() {
    return label;
  }
}
