package io.teller.balancer.resilience;

import io.teller.balancer.metrics.ProxyMetrics;
import io.teller.balancer.routing.ServicePool;
import java.util.HashSet;
import java.util.Set;

/**
 * What both data paths, HTTP requests (L7) and TCP connections (L4), do about failing instances, in
 * one place: which instances a request has tried, what a pick must leave out (tried and ejected
 * instances, unless that leaves none: the panic threshold), passive ejection, whether a failure may
 * be retried elsewhere (the retry count and the shared {@link RetryBudget}), and the meters of all
 * of it.
 *
 * <p>Every failure is counted here, once, by its fault ({@link #record}): only an instance's faults
 * count toward its ejection and {@code teller_upstream_failures_total}; a client that leaves counts
 * in {@code teller_client_aborts_total} and never against the instance. One per balancer, shared by
 * every event loop.
 */
public final class Resilience {

  private final Ejections ejections;
  private final RetryBudget budget;
  private final ProxyMetrics metrics;
  private final int retries;

  /**
   * @param ejections passive ejection state
   * @param budget caps retries at a share of the traffic
   * @param metrics where failures, retries and ejections are counted
   * @param retries other instances a request or connection may try after the first
   */
  /** The ejection state, for whoever must know when an instance is ejected (slow start). */
  public Ejections ejections() {
    return ejections;
  }

  public Resilience(Ejections ejections, RetryBudget budget, ProxyMetrics metrics, int retries) {
    this.ejections = ejections;
    this.budget = budget;
    this.metrics = metrics;
    this.retries = retries;
  }

  /** Counts a request or connection let in: the retry budget grows with the traffic. */
  public void admitted() {
    budget.request();
  }

  /** The instances one request or connection has tried, in a pool of its service. */
  public Tries tries(ServicePool pool) {
    return new Tries(pool);
  }

  /**
   * Counts {@code failure} by its fault, once however often it is passed: an instance's fault
   * toward that instance's ejection and {@code teller_upstream_failures_total}; a client that left
   * in {@code teller_client_aborts_total}. Others (no route, no instance) show in the answer's
   * status alone.
   */
  public void record(Failure failure) {
    if (!failure.markRecorded()) {
      return;
    }
    switch (failure.fault()) {
      case INSTANCE -> {
        String service = failure.service();
        String instance = failure.instance();
        boolean ejected;
        switch (failure.kind()) {
          case CONNECT -> {
            metrics.upstreamFailure(service, instance, ProxyMetrics.FailureKind.CONNECT);
            ejected = ejections.failed(instance);
          }
          case TIMEOUT -> {
            metrics.upstreamFailure(service, instance, ProxyMetrics.FailureKind.TIMEOUT);
            ejected = ejections.serverError(instance);
          }
          default -> {
            metrics.upstreamFailure(service, instance, ProxyMetrics.FailureKind.RESET);
            ejected = ejections.serverError(instance);
          }
        }
        if (ejected) {
          metrics.ejected(service, instance);
        }
      }
      case CLIENT -> {
        if (failure.kind() == Failure.Kind.CLIENT_GONE && failure.service() != null) {
          metrics.clientAborted(failure.service());
        }
      }
      case BALANCER -> {
        // Counted by the answer's status (instance "none"); nothing to hold against anyone.
      }
    }
  }

  /**
   * Whether {@code failure}, just recorded, may be retried on another instance: it must be
   * replayable, retries and untried instances must be left, and the retry budget must allow it. A
   * retry made, or refused by the budget, is counted.
   */
  public boolean retry(Tries tries, Failure failure) {
    if (!failure.replayable()
        || tries.count > retries
        || tries.count >= tries.pool.endpoints().size()) {
      return false;
    }
    String service = tries.pool.service().name();
    if (budget.tryRetry()) {
      metrics.retried(service);
      return true;
    }
    metrics.retryOverBudget(service);
    return false;
  }

  /**
   * An instance answered (status and headers): a 5xx continues its run of server errors toward
   * ejection, anything else ends its run of failures.
   */
  public void answered(String service, String instance, int status) {
    if (status >= 500) {
      if (ejections.serverError(instance)) {
        metrics.ejected(service, instance);
      }
    } else {
      ejections.succeeded(instance);
    }
  }

  /** An L4 connection reached the instance: its run of failures ends. */
  public void reached(String instance) {
    ejections.succeeded(instance);
  }

  /** Whether {@code instance} is ejected now (for {@code /counts}). */
  public boolean isEjected(String instance) {
    return ejections.isEjected(instance);
  }

  /** Forgets the ejections of instances that left; off the request path. */
  public void sweep(Set<String> known) {
    ejections.sweep(known);
  }

  /**
   * The instances one request (or connection) went to, and what its next pick must leave out. One
   * instance on the common path, so no set is made until a retry.
   */
  public final class Tries {
    private final ServicePool pool;
    private Set<String> tried = Set.of();
    private int count;

    private Tries(ServicePool pool) {
      this.pool = pool;
    }

    /** Notes an attempt on {@code instance}. */
    public void add(String instance) {
      count++;
      if (tried.isEmpty()) {
        tried = Set.of(instance);
      } else {
        Set<String> more = new HashSet<>(tried);
        more.add(instance);
        tried = more;
      }
    }

    /** How many attempts were made. */
    public int count() {
      return count;
    }

    /**
     * What the next pick must leave out: the instances tried and the ejected ones, unless that
     * leaves none (then only those tried).
     */
    public Set<String> excluded() {
      return ejections.excluding(pool.endpoints().keySet(), tried);
    }
  }
}
