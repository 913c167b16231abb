package io.teller.balancer.proxy;

import io.teller.balancer.strategy.LoadCounts;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This balancer's exact count of requests in flight per endpoint. Every request takes a {@link
 * Lease} when its endpoint is picked and releases it exactly once: when the response has been
 * sent, when either connection fails, or when the request could not be sent at all. Counts are
 * read by the least-connection pickers without locking.
 */
public final class InFlight implements LoadCounts {

  private final ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();

  @Override
  public long inFlight(String endpointId) {
    AtomicLong count = counts.get(endpointId);
    return count == null ? 0 : count.get();
  }

  /** Counts one more request on {@code endpointId} until the lease is released. */
  public Lease acquire(String endpointId) {
    AtomicLong count = counts.computeIfAbsent(endpointId, id -> new AtomicLong());
    count.incrementAndGet();
    return new Lease(count);
  }

  /** Every endpoint's current count (those with none in flight included once seen). */
  public Map<String, Long> snapshot() {
    Map<String, Long> copy = new HashMap<>();
    counts.forEach((id, count) -> copy.put(id, count.get()));
    return copy;
  }

  /** One request's claim on an endpoint; {@link #release()} may be called any number of times. */
  public static final class Lease {
    private final AtomicLong count;
    private boolean released;

    private Lease(AtomicLong count) {
      this.count = count;
    }

    /** Gives the request's count back; only the first call counts. */
    public void release() {
      // All callbacks of one request run on its connection's event loop: a plain flag suffices.
      if (!released) {
        released = true;
        count.decrementAndGet();
      }
    }
  }
}
