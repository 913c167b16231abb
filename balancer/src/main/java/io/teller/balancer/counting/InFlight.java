package io.teller.balancer.counting;

import io.teller.balancer.strategy.LoadCounts;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This balancer's exact count of requests in flight per endpoint. Every request takes a {@link
 * Lease} when its endpoint is picked and releases it exactly once: when the response has been sent,
 * when either connection fails, or when the request could not be sent at all. Counts are read by
 * the least-connection pickers without locking.
 */
public final class InFlight implements LoadCounts {

  private final ConcurrentHashMap<String, AtomicLong> counts = new ConcurrentHashMap<>();

  /** Grows with every change: lets the sharer see cheaply whether anything changed. */
  private final AtomicLong version = new AtomicLong();

  /** Wall-clock time of the oldest change not yet shared, or 0. */
  private final AtomicLong oldestUnshared = new AtomicLong();

  @Override
  public long inFlight(String endpointId) {
    AtomicLong count = counts.get(endpointId);
    return count == null ? 0 : count.get();
  }

  /** Counts one more request on {@code endpointId} until the lease is released. */
  public Lease acquire(String endpointId) {
    AtomicLong count = counts.computeIfAbsent(endpointId, id -> new AtomicLong());
    count.incrementAndGet();
    changed();
    return new Lease(this, count);
  }

  private void changed() {
    version.incrementAndGet();
    if (oldestUnshared.get() == 0) {
      oldestUnshared.compareAndSet(0, System.currentTimeMillis());
    }
  }

  /** The change counter; equal values mean nothing changed in between. */
  public long version() {
    return version.get();
  }

  /** Takes the time of the oldest change since the last call (0 if none). */
  public long takeOldestUnshared() {
    return oldestUnshared.getAndSet(0);
  }

  /** Every endpoint's current count (those with none in flight included once seen). */
  public Map<String, Long> snapshot() {
    Map<String, Long> copy = new HashMap<>();
    counts.forEach((id, count) -> copy.put(id, count.get()));
    return copy;
  }

  /** One request's claim on an endpoint; {@link #release()} may be called any number of times. */
  public static final class Lease {
    private final InFlight owner;
    private final AtomicLong count;
    private boolean released;

    private Lease(InFlight owner, AtomicLong count) {
      this.owner = owner;
      this.count = count;
    }

    /** Gives the request's count back; only the first call counts. */
    public void release() {
      // All callbacks of one request run on its connection's event loop: a plain flag suffices.
      if (!released) {
        released = true;
        count.decrementAndGet();
        owner.changed();
      }
    }
  }
}
