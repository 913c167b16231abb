package io.teller.balancer.strategy;

import java.util.Objects;

/**
 * An instance the balancer may send to, as a picker sees it: immutable.
 *
 * <p>Only instances that may take traffic reach a snapshot: weight-0, draining and unhealthy
 * instances are filtered out before, so the weight here is at least 1.
 *
 * @param id the instance id, unique within a snapshot
 * @param host the host name or IP address to connect to
 * @param port the port to connect to, 1 to 65535
 * @param weight the relative share of traffic, at least 1
 * @param rampFromMillis when its slow-start ramp began (epoch ms): when the registry made it
 *     eligible, or when this balancer let it back after an ejection; {@link #NO_RAMP} when it is
 *     not eased in (no slow start, or part of its service's cold start)
 */
public record Endpoint(String id, String host, int port, int weight, long rampFromMillis) {

  /** The {@link #rampFromMillis} of an endpoint that always gets its full weight. */
  public static final long NO_RAMP = Long.MIN_VALUE;

  /** An endpoint that is not eased in. */
  public Endpoint(String id, String host, int port, int weight) {
    this(id, host, port, weight, NO_RAMP);
  }

  /** Whether a slow start eases this endpoint in. */
  public boolean ramps() {
    return rampFromMillis != NO_RAMP;
  }

  public Endpoint {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(host, "host");
    if (id.isBlank()) {
      throw new IllegalArgumentException("endpoint id must not be blank");
    }
    if (host.isBlank()) {
      throw new IllegalArgumentException("endpoint " + id + ": host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "endpoint " + id + ": port must be 1 to 65535, got " + port);
    }
    if (weight < 1) {
      throw new IllegalArgumentException(
          "endpoint " + id + ": weight must be at least 1, got " + weight);
    }
  }
}
