package io.teller.balancer.metrics;

import io.teller.common.load.LatencyBuckets;
import io.teller.common.load.TrafficReport.InstanceTraffic;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One instance's answers, 5xx answers, ejections and latency histogram since the last report,
 * recorded from every event loop and taken once a second by the {@link TrafficReporter}.
 *
 * <p>Cost on the request path: an index computed from the latency's leading zeros and two atomic
 * increments in one array (three for a 5xx), on top of the Micrometer counter and timer that {@link
 * ProxyMetrics#answered} updates anyway. No allocation, no lock. Taking the figures swaps each slot
 * with 0, so an answer recorded meanwhile lands in this report or the next, never in none.
 */
final class TrafficCell {

  private static final int REQUESTS = 0;
  private static final int ERRORS = 1;
  private static final int EJECTIONS = 2;
  private static final int LATENCY = 3;

  private final AtomicLongArray slots = new AtomicLongArray(LATENCY + LatencyBuckets.COUNT);

  void answered(int status, long durationNanos) {
    slots.incrementAndGet(LATENCY + LatencyBuckets.index(durationNanos / 1_000));
    if (status >= 500) {
      slots.incrementAndGet(ERRORS);
    }
    // Last: the reporter reads it first, and skips the histogram of an idle instance.
    slots.incrementAndGet(REQUESTS);
  }

  void ejected() {
    slots.incrementAndGet(EJECTIONS);
  }

  /** Takes what was recorded since the last call; null if nothing was. */
  InstanceTraffic take(boolean ejectedNow) {
    long requests = slots.getAndSet(REQUESTS, 0);
    long ejections = slots.getAndSet(EJECTIONS, 0);
    if (requests == 0 && ejections == 0 && !ejectedNow) {
      return null;
    }
    long errors = slots.getAndSet(ERRORS, 0);
    long[] latency = new long[16];
    int n = 0;
    if (requests > 0) {
      for (int i = 0; i < LatencyBuckets.COUNT; i++) {
        long count = slots.get(LATENCY + i) == 0 ? 0 : slots.getAndSet(LATENCY + i, 0);
        if (count > 0) {
          if (n + 2 > latency.length) {
            latency = java.util.Arrays.copyOf(latency, latency.length * 2);
          }
          latency[n++] = i;
          latency[n++] = count;
        }
      }
    }
    return new InstanceTraffic(
        requests, errors, ejections, ejectedNow, java.util.Arrays.copyOf(latency, n));
  }
}
