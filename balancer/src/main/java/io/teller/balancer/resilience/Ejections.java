package io.teller.balancer.resilience;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Passive ejection: an instance that fails several times in a row is left out of this balancer's
 * picks for a while, and comes back by itself. Two kinds of failure count, each against its own
 * threshold: connection failures (refused, reset before any answer, connect timeout) and server
 * errors (5xx answers, and response timeouts). The n-th ejection in a row lasts 1 s doubled n-1
 * times, up to 30 s; a success ends the run of failures, and an instance that stays out of trouble
 * for 30 s after an ejection starts again from 1 s.
 *
 * <p>Local to this balancer (the registry's own health checks and member-left removal act
 * cluster-wide, but take longer). Pickers skip ejected instances unless that would leave none: then
 * they use them all (panic threshold).
 */
public final class Ejections {

  static final long FIRST_MILLIS = 1_000;
  static final long MAX_MILLIS = 30_000;

  private final int connectFailureThreshold;
  private final int serverErrorThreshold;
  private final ConcurrentHashMap<String, State> states = new ConcurrentHashMap<>();
  private volatile Listener listener = (id, untilNanos) -> {};

  /** Told of each ejection, on the thread that ejects; must not block. */
  @FunctionalInterface
  public interface Listener {

    /**
     * @param untilNanos when the ejection ends, on {@link System#nanoTime()}'s scale
     */
    void ejected(String endpointId, long untilNanos);
  }

  /**
   * @param consecutive connection failures in a row that eject an instance
   * @param serverErrors 5xx answers (or response timeouts) in a row that eject an instance
   */
  private record State(int connectFailures, int serverErrors, int ejections, long untilNanos) {

    boolean ejectedAt(long now) {
      return ejections > 0 && now < untilNanos;
    }

    /** Whether the last ejection is long enough over to be forgotten. */
    boolean forgottenAt(long now) {
      return now - untilNanos > MAX_MILLIS * 1_000_000;
    }
  }

  /** Ejects on the first connection failure and on the fifth server error in a row. */
  public Ejections() {
    this(1, 5);
  }

  /**
   * @param connectFailureThreshold connection failures in a row that eject (at least 1)
   * @param serverErrorThreshold server errors in a row that eject (0: server errors never eject)
   */
  public Ejections(int connectFailureThreshold, int serverErrorThreshold) {
    if (connectFailureThreshold < 1 || serverErrorThreshold < 0) {
      throw new IllegalArgumentException(
          "thresholds: connection failures >= 1, server errors >= 0");
    }
    this.connectFailureThreshold = connectFailureThreshold;
    this.serverErrorThreshold = serverErrorThreshold;
  }

  /**
   * Tells {@code listener} of every ejection from now on (a slow start eases the instance back).
   */
  public void onEjected(Listener listener) {
    this.listener = java.util.Objects.requireNonNull(listener, "listener");
  }

  /**
   * Records a failure to reach {@code endpointId}.
   *
   * @return whether this failure ejected it
   */
  public boolean failed(String endpointId) {
    return record(endpointId, true);
  }

  /**
   * Records a 5xx answer or a response timeout from {@code endpointId}.
   *
   * @return whether this error ejected it
   */
  public boolean serverError(String endpointId) {
    if (serverErrorThreshold == 0) {
      return false;
    }
    return record(endpointId, false);
  }

  private boolean record(String endpointId, boolean connection) {
    long now = System.nanoTime();
    State[] ejected = new State[1];
    states.compute(
        endpointId,
        (id, state) -> {
          int ejections = state == null || state.forgottenAt(now) ? 0 : state.ejections();
          if (state != null && state.ejectedAt(now)) {
            // Already out (a request picked under the panic threshold, or already in flight).
            return state;
          }
          int connectFailures =
              (state == null ? 0 : state.connectFailures()) + (connection ? 1 : 0);
          int serverErrors = (state == null ? 0 : state.serverErrors()) + (connection ? 0 : 1);
          if (connectFailures >= connectFailureThreshold
              || (serverErrorThreshold > 0 && serverErrors >= serverErrorThreshold)) {
            int nth = ejections + 1;
            ejected[0] = new State(0, 0, nth, now + ejectionMillis(nth) * 1_000_000);
            return ejected[0];
          }
          long until = state == null ? now : state.untilNanos();
          return new State(connectFailures, serverErrors, ejections, until);
        });
    if (ejected[0] == null) {
      return false;
    }
    listener.ejected(endpointId, ejected[0].untilNanos());
    return true;
  }

  /** How long the {@code nth} ejection in a row lasts: 1 s, doubling, capped at 30 s. */
  static long ejectionMillis(int nth) {
    return Math.min(MAX_MILLIS, FIRST_MILLIS << Math.min(nth - 1, 5));
  }

  /** Records a success: the run of failures is over, and an ejection that ran out ends. */
  public void succeeded(String endpointId) {
    if (states.isEmpty()) {
      return;
    }
    State state = states.get(endpointId);
    if (state == null) {
      return;
    }
    long now = System.nanoTime();
    if (state.ejections() == 0 || state.forgottenAt(now)) {
      states.remove(endpointId, state);
    } else if (state.connectFailures() != 0 || state.serverErrors() != 0) {
      // Keep the ejection count: a flapping instance gets longer ejections each time.
      states.replace(endpointId, state, new State(0, 0, state.ejections(), state.untilNanos()));
    }
  }

  /** Whether {@code endpointId} is ejected now. */
  public boolean isEjected(String endpointId) {
    if (states.isEmpty()) {
      return false;
    }
    State state = states.get(endpointId);
    return state != null && state.ejectedAt(System.nanoTime());
  }

  /**
   * Whether anything is ejected or failing at all (the common case is no: picks then cost nothing
   * more).
   */
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
    long now = System.nanoTime();
    for (String id : ids) {
      State state = states.get(id);
      if (state != null && state.ejectedAt(now)) {
        ejected.add(id);
      }
    }
    return ejected;
  }

  /**
   * Forgets instances that are gone from the registry and ejections long over, so that picks go
   * back to costing nothing extra. Called now and then, off the request path.
   *
   * @param known the ids of every instance the balancer routes to now
   */
  public void sweep(Set<String> known) {
    long now = System.nanoTime();
    states
        .entrySet()
        .removeIf(
            entry ->
                !known.contains(entry.getKey())
                    || (entry.getValue().forgottenAt(now)
                        && entry.getValue().connectFailures() == 0
                        && entry.getValue().serverErrors() == 0));
  }
}
