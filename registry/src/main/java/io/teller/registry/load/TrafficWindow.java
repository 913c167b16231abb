package io.teller.registry.load;

import io.teller.common.load.LatencyBuckets;
import io.teller.common.load.TrafficReport.InstanceTraffic;

/**
 * One instance's traffic, all balancers together, in 5-second bins: answers, 5xx answers and
 * ejections for the last 5 minutes (the dashboard's sparkline), latency histograms for the last
 * minute (its p50 and p99). The minute's histogram is kept as a running sum (a bin's histogram is
 * added as reports arrive and subtracted when the bin leaves the minute), so a percentile costs one
 * pass over {@link LatencyBuckets#COUNT} buckets, whatever the traffic.
 *
 * <p>Memory: about 1.4 KB, plus 0.35 KB per bin of the last minute that had traffic (at most 6 KB
 * for an instance busy all minute). Not thread-safe: one event loop owns it.
 */
final class TrafficWindow {

  /** Seconds per bin. */
  static final int BIN_SECONDS = 5;

  /** Bins kept: 5 minutes. */
  static final int BINS = 60;

  /** Bins in "the last minute" (the current, partial one included). */
  static final int MINUTE_BINS = 60 / BIN_SECONDS;

  private final long[] requests = new long[BINS];
  private final long[] errors = new long[BINS];
  private final long[] ejections = new long[BINS];
  private final int[][] latency = new int[MINUTE_BINS][];
  private final long[] minute = new long[LatencyBuckets.COUNT];
  private long lastBin = -1;

  static long binOf(long epochMillis) {
    return epochMillis / 1000 / BIN_SECONDS;
  }

  /** Moves the window to {@code bin}, clearing the bins that fell out of it. */
  void advance(long bin) {
    if (lastBin < 0) {
      lastBin = bin;
      return;
    }
    if (bin <= lastBin) {
      return;
    }
    long from = Math.max(lastBin + 1, bin - BINS + 1);
    for (long b = from; b <= bin; b++) {
      int i = (int) (b % BINS);
      requests[i] = 0;
      errors[i] = 0;
      ejections[i] = 0;
      int[] old = latency[(int) (b % MINUTE_BINS)];
      if (old != null) {
        for (int k = 0; k < old.length; k++) {
          minute[k] -= old[k];
        }
        latency[(int) (b % MINUTE_BINS)] = null;
      }
    }
    lastBin = bin;
  }

  /** Adds one balancer's report of this instance into {@code bin} (the current one). */
  void add(long bin, InstanceTraffic traffic) {
    advance(bin);
    int i = (int) (bin % BINS);
    requests[i] += traffic.requests();
    errors[i] += traffic.errors();
    ejections[i] += traffic.ejections();
    long[] sparse = traffic.latency();
    if (sparse.length > 0) {
      int slot = (int) (bin % MINUTE_BINS);
      int[] histogram = latency[slot];
      if (histogram == null) {
        histogram = new int[LatencyBuckets.COUNT];
        latency[slot] = histogram;
      }
      for (int k = 0; k + 1 < sparse.length; k += 2) {
        int index = (int) sparse[k];
        if (index >= 0 && index < LatencyBuckets.COUNT) {
          histogram[index] += (int) sparse[k + 1];
          minute[index] += sparse[k + 1];
        }
      }
    }
  }

  private long sum(long[] bins, int count) {
    long total = 0;
    for (int k = 0; k < count; k++) {
      total += bins[(int) ((lastBin - k) % BINS + BINS) % BINS];
    }
    return total;
  }

  /** Answers over the last minute. */
  long minuteRequests() {
    return lastBin < 0 ? 0 : sum(requests, MINUTE_BINS);
  }

  /** 5xx answers among all answers over the last minute (0 without answers). */
  double minuteErrorRate() {
    long answered = minuteRequests();
    return answered == 0 ? 0 : (double) sum(errors, MINUTE_BINS) / answered;
  }

  /** Ejections over the 5 minutes kept. */
  long ejections() {
    return lastBin < 0 ? 0 : sum(ejections, BINS);
  }

  /** The {@code q}-quantile of the last minute's latencies in ms; NaN without answers. */
  double quantileMillis(double q) {
    return LatencyBuckets.quantileMillis(minute, q);
  }

  /**
   * Answers per second in each complete bin before {@code bin}, oldest first ({@link #BINS} - 1
   * values).
   */
  double[] ratesBefore(long bin) {
    double[] rates = new double[BINS - 1];
    for (int k = 0; k < BINS - 1; k++) {
      long b = bin - (BINS - 1) + k;
      if (lastBin >= 0 && b <= lastBin && b > lastBin - BINS) {
        rates[k] = (double) requests[(int) (b % BINS)] / BIN_SECONDS;
      }
    }
    return rates;
  }

  /** Answers in {@code bin} (0 if it is not kept). */
  long requestsIn(long bin) {
    return lastBin >= 0 && bin <= lastBin && bin > lastBin - BINS
        ? requests[(int) (bin % BINS)]
        : 0;
  }

  /** Whether nothing at all happened in the 5 minutes kept (the window can be dropped). */
  boolean idleAt(long bin) {
    advance(bin);
    for (int k = 0; k < BINS; k++) {
      if (requests[k] != 0 || ejections[k] != 0) {
        return false;
      }
    }
    return true;
  }
}
