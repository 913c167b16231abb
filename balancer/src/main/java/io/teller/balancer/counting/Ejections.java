package io.teller.balancer.counting;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Passive ejection: an instance this balancer could not connect to is left out of its picks for
 * a while — 1 s after the first failure in a row, doubling with each further one, up to 30 s — and
 * comes back by itself; the first success clears it. Local to this balancer (the registry's own
 * health checks and member-left removal act cluster-wide, but take longer). Pickers skip
 * ejected instances unless that would leave none: then they use them all (panic threshold).
 */
public final class Ejections {

  static final long FIRST_MILLIS = 1_000;
  static final long MAX_MILLIS = 30_000;

  private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();

  private record State(int failures, long untilNanos) {}

  /** Records a failure to reach {@code endpointId}; ejects it, for longer on repeat. */
  public void failed(String endpointId) {
    long now = System.nanoTime();
    states.compute(endpointId, (id, state) -> {
      int failures = state == null ? 1 : state.failures() + 1;
      return new State(failures, now + ejectionMillis(failures) * 1_000_000);
    });
  }

  /** How long the {@code failures}-th failure in a row ejects for: 1 s, doubling, capped at 30 s. */
  static long ejectionMillis(int failures) {
    return Math.min(MAX_MILLIS, FIRST_MILLIS << Math.min(failures - 1, 5));
  }

  /** Records a success: the instance is back in full. */
  public void succeeded(String endpointId) {
    if (!states.isEmpty()) {
      states.remove(endpointId);
    }
  }

  /** Whether {@code endpointId} is ejected now. */
  public boolean isEjected(String endpointId) {
    if (states.isEmpty()) {
      return false;
    }
    State state = states.get(endpointId);
    return state != null && System.nanoTime() < state.untilNanos();
  }

  /** Whether anything is ejected at all (the common case is no: picks then cost nothing more). */
  public boolean any() {
    return !states.isEmpty();
  }

  /**
   * What a pick among {@code ids} must leave out: those already {@code tried} and the ejected ones
   * — unless that leaves none, when only the tried ones (panic threshold: ejection never empties a
   * service).
   */
  public Set<String> excluding(Set<String> ids, Set<String> tried) {
    if (!any()) {
      return tried;
    }
    Set<String> out = ejectedAmong(ids);
    out.addAll(tried);
    return out.containsAll(ids) ? tried : out;
  }

  /** The ejected ones among {@code ids}. */
  public Set<String> ejectedAmong(Set<String> ids) {
    Set<String> ejected = new java.util.HashSet<>();
    for (String id : ids) {
      if (isEjected(id)) {
        ejected.add(id);
      }
    }
    return ejected;
  }
}
