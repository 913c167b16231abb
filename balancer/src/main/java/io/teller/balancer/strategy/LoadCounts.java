package io.teller.balancer.strategy;

/**
 * The current number of in-flight requests (or connections) of each endpoint, read locally and
 * without blocking: this balancer's own count, or its count plus its peers' latest.
 *
 * <p>The counts outlive pickers: the balancer owns them and hands the same {@code LoadCounts} to
 * each new picker. A picker reads a count once per candidate and per pick; the value may change
 * concurrently, which only makes the choice as stale as the count.
 */
@FunctionalInterface
public interface LoadCounts {

  /** No load anywhere: every endpoint has 0 in flight. */
  LoadCounts NONE = id -> 0;

  /**
   * Returns the in-flight count of the endpoint with this id, 0 for an unknown id. Must not block.
   */
  long inFlight(String endpointId);
}
