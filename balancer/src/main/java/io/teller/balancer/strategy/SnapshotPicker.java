package io.teller.balancer.strategy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What every picker does the same way: holds the snapshot, returns null for an empty one, and
 * honours the sticky endpoint before its strategy chooses.
 */
abstract class SnapshotPicker implements Picker {

  /** The snapshot, in the order it was given; never modified. */
  final Endpoint[] endpoints;

  private final Map<String, Endpoint> byId;

  SnapshotPicker(List<Endpoint> snapshot) {
    this.endpoints = List.copyOf(snapshot).toArray(new Endpoint[0]);
    this.byId = new HashMap<>(endpoints.length * 2);
    for (Endpoint endpoint : endpoints) {
      if (byId.put(endpoint.id(), endpoint) != null) {
        throw new IllegalArgumentException("two endpoints share the id " + endpoint.id());
      }
    }
  }

  @Override
  public final Endpoint pick(PickContext context) {
    if (endpoints.length == 0) {
      return null;
    }
    Set<String> excluded = context.excluded();
    if (excluded == null) {
      excluded = Set.of();
    }
    String sticky = context.stickyEndpointId();
    if (sticky != null && !excluded.contains(sticky)) {
      Endpoint endpoint = byId.get(sticky);
      if (endpoint != null) {
        return endpoint;
      }
    }
    return choose(context, excluded);
  }

  /**
   * Chooses by the strategy; the snapshot has at least one endpoint.
   *
   * @param excluded the ids never to return, never null
   * @return the endpoint, or null when every endpoint is excluded
   */
  abstract Endpoint choose(PickContext context, Set<String> excluded);

  /** Whether every endpoint of the snapshot is excluded. */
  final boolean allExcluded(Set<String> excluded) {
    if (excluded.size() < endpoints.length) {
      return false;
    }
    for (Endpoint endpoint : endpoints) {
      if (!excluded.contains(endpoint.id())) {
        return false;
      }
    }
    return true;
  }

  /**
   * The steps of {@code ramp} over {@code endpoints} as effective weights, by index: each weight
   * times its factor in thousandths (at most 1000 × 1000, so {@link #compareLoad} still cannot
   * overflow).
   */
  static Ramp.Steps<int[]> effectiveWeights(Endpoint[] endpoints, Ramp ramp) {
    int[] weights = new int[endpoints.length];
    for (int i = 0; i < endpoints.length; i++) {
      weights[i] = endpoints[i].weight();
    }
    return ramp.steps(
        endpoints,
        factors -> {
          for (int i = 0; i < factors.length; i++) {
            factors[i] *= weights[i];
          }
          return factors;
        });
  }

  /**
   * Compares the load of two endpoints, (inFlight + 1) / weight, by cross-multiplication: no
   * floating point. Counts are clamped to 0..{@link Integer#MAX_VALUE} (a shared count may be
   * briefly negative or absurd), so the products fit in a long.
   *
   * @return negative when {@code a} is less loaded, 0 when equal, positive when more loaded
   */
  static int compareLoad(long inFlightA, int weightA, long inFlightB, int weightB) {
    return Long.compare((clamp(inFlightA) + 1) * weightB, (clamp(inFlightB) + 1) * weightA);
  }

  private static long clamp(long inFlight) {
    return Math.max(0, Math.min(inFlight, Integer.MAX_VALUE));
  }
}
