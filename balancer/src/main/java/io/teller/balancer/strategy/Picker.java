package io.teller.balancer.strategy;

/**
 * Picks one endpoint for one request, from an immutable snapshot of endpoints. A picker never
 * blocks and is safe to call from several event-loop threads at once; a change of the endpoints
 * builds a new picker, which replaces the old one in one assignment.
 */
@FunctionalInterface
public interface Picker {

  /**
   * Returns the endpoint for this request, or null when no endpoint is available: the snapshot is
   * empty or every endpoint in it is excluded.
   */
  Endpoint pick(PickContext context);
}
