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
 */
public record Endpoint(String id, String host, int port, int weight) {

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
