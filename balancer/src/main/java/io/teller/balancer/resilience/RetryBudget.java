package io.teller.balancer.resilience;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Caps retries at a share of traffic, so that when many instances fail at once retries cannot
 * multiply the load on those left (a retry storm). Over a sliding window of the last 10 seconds, a
 * retry is allowed while the retries in the window stay below {@code percent} of the requests plus
 * a floor of {@code minPerSecond} a second, which lets a quiet balancer still retry. The same rule
 * as Finagle's and Envoy's retry budgets.
 *
 * <p>One per balancer, shared by its event loops: each request costs one increment of a slot; only
 * a retry reads the window. Slots are reused by second number; the window is approximate at a
 * second's edge, which a cap does not mind.
 */
public final class RetryBudget {

  private static final int SLOTS = 10;

  private final int percent;
  private final int minPerSecond;
  private final LongSupplier clockMillis;
  private final AtomicLongArray slotSecond = new AtomicLongArray(SLOTS);
  private final AtomicLongArray requests = new AtomicLongArray(SLOTS);
  private final AtomicLongArray retries = new AtomicLongArray(SLOTS);

  /**
   * @param percent retries allowed per 100 requests (0-100)
   * @param minPerSecond retries allowed each second whatever the traffic
   */
  public RetryBudget(int percent, int minPerSecond) {
    this(percent, minPerSecond, System::currentTimeMillis);
  }

  RetryBudget(int percent, int minPerSecond, LongSupplier clockMillis) {
    if (percent < 0 || percent > 100 || minPerSecond < 0) {
      throw new IllegalArgumentException("percent 0-100, minPerSecond >= 0");
    }
    this.percent = percent;
    this.minPerSecond = minPerSecond;
    this.clockMillis = clockMillis;
    for (int i = 0; i < SLOTS; i++) {
      slotSecond.set(i, Long.MIN_VALUE);
    }
  }

  /** Counts one client request. */
  public void request() {
    requests.incrementAndGet(slot(clockMillis.getAsLong() / 1000));
  }

  /**
   * Takes one retry from the budget if there is one left.
   *
   * @return whether the retry may go ahead
   */
  public boolean tryRetry() {
    long second = clockMillis.getAsLong() / 1000;
    int current = slot(second);
    long windowRequests = 0;
    long windowRetries = 0;
    for (int i = 0; i < SLOTS; i++) {
      if (second - slotSecond.get(i) < SLOTS) {
        windowRequests += requests.get(i);
        windowRetries += retries.get(i);
      }
    }
    long allowed = (long) minPerSecond * SLOTS + windowRequests * percent / 100;
    if (windowRetries >= allowed) {
      return false;
    }
    retries.incrementAndGet(current);
    return true;
  }

  /** The slot for {@code second}, emptied first if it last held an older second. */
  private int slot(long second) {
    int index = (int) Math.floorMod(second, (long) SLOTS);
    long held = slotSecond.get(index);
    if (held != second && slotSecond.compareAndSet(index, held, second)) {
      requests.set(index, 0);
      retries.set(index, 0);
    }
    return index;
  }
}
