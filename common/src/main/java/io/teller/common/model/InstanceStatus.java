package io.teller.common.model;

import java.util.Locale;

/**
 * Where an instance stands; only {@link #HEALTHY} instances with a weight above 0 get new traffic.
 */
public enum InstanceStatus {
  /** Registered to a service with a health check that has not passed yet. */
  STARTING,
  HEALTHY,
  /** Failed its health check {@code unhealthyThreshold} times in a row. */
  UNHEALTHY,
  /**
   * Deregistered: finishes its open requests, takes no new ones, removed after the drain timeout.
   */
  DRAINING;

  public String json() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static InstanceStatus fromJson(String value) {
    return valueOf(value.toUpperCase(Locale.ROOT));
  }
}
