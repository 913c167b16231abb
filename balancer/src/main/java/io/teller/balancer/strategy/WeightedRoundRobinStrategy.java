package io.teller.balancer.strategy;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code weighted-round-robin}: smooth weighted round robin, nginx's algorithm, exact and
 * lock-free.
 *
 * <p>The algorithm: every endpoint has a current value, initially 0. For each pick, add each
 * endpoint's weight to its current value, pick the endpoint with the largest (the first in snapshot
 * order on a tie), and subtract the total weight from the picked one. After one period of {@code
 * total} picks every current value is 0 again and each endpoint has been picked exactly {@code
 * weight} times, interleaved rather than in runs: weights 5, 1, 1 for a, b, c give {@code a a b a c
 * a a}, again and again.
 *
 * <p>Under concurrency: the picker computes one full period up front (after dividing the weights by
 * their greatest common divisor, which gives the same sequence with a shorter period) and every
 * pick takes the next position with one atomic increment. So picks from any number of threads walk
 * the same sequence, no position is taken twice or skipped, and any {@code k} periods' worth of
 * picks split exactly in proportion to the weights; no lock, no CAS loop.
 *
 * <p>When the period is too long to precompute (more than {@value #MAX_PERIOD} picks, or more than
 * {@value #MAX_BUILD_STEPS} steps of the algorithm to compute it, e.g. thousands of endpoints), the
 * picker keeps exact proportions with a different interleaving: position {@code n} of the period is
 * mapped to {@code (n * stride) mod total} with a stride near {@code total / φ} and coprime with
 * {@code total} (a permutation of the period, well spread), and that value falls into the endpoint
 * owning that range of cumulative weight (binary search). The position advances by one
 * compare-and-set per pick, retried only when another pick won the race: still lock-free.
 *
 * <p>An excluded endpoint (a retry) is replaced by the next non-excluded one in the schedule (in
 * the precomputed period) or in snapshot order (in the fallback); the position is still consumed,
 * so the shared sequence is not disturbed.
 *
 * <p>Every new picker starts at the beginning of the period, as nginx does after a configuration
 * change.
 *
 * <p>Slow start: while the {@link Ramp} eases some endpoint of the snapshot in, the picker is a
 * {@link RampedRotation} over the effective weights {@code weight × factor}, rebuilt at each step
 * of the ramp: exact proportions over every whole period within a step, as above.
 */
public final class WeightedRoundRobinStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "weighted-round-robin";

  /** The longest period precomputed: {@code 4 * MAX_PERIOD} bytes per picker at most. */
  static final int MAX_PERIOD = 10_000;

  /** The most steps (period × endpoints) spent precomputing one period when a picker is built. */
  static final long MAX_BUILD_STEPS = 2_000_000;

  private final Ramp ramp;

  /** Without slow start. */
  public WeightedRoundRobinStrategy() {
    this(Ramp.OFF);
  }

  /**
   * @param ramp the service's slow start
   */
  public WeightedRoundRobinStrategy(Ramp ramp) {
    this.ramp = Objects.requireNonNull(ramp, "ramp");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    int size = endpoints.size();
    int[] weights = new int[size];
    int divisor = 0;
    for (int i = 0; i < size; i++) {
      weights[i] = endpoints.get(i).weight();
      divisor = gcd(divisor, weights[i]);
    }
    if (ramp.rampsAny(endpoints)) {
      return new RampedRotation(endpoints, weights, ramp, 0);
    }
    long total = 0;
    for (int i = 0; i < size; i++) {
      weights[i] /= divisor;
      total += weights[i];
    }
    if (total <= MAX_PERIOD && total * size <= MAX_BUILD_STEPS) {
      return new PeriodPicker(endpoints, smoothPeriod(weights, (int) total));
    }
    return new StridePicker(endpoints, weights, total);
  }

  /** One period of nginx's smooth weighted round robin: the index picked at each position. */
  static int[] smoothPeriod(int[] weights, int total) {
    long[] current = new long[weights.length];
    int[] period = new int[total];
    for (int position = 0; position < total; position++) {
      int best = 0;
      for (int i = 0; i < weights.length; i++) {
        current[i] += weights[i];
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      period[position] = best;
    }
    return period;
  }

  static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  /** The integer nearest {@code total / φ} that is coprime with {@code total}. */
  static long coprimeStride(long total) {
    if (total <= 2) {
      return 1;
    }
    long stride = Math.max(1, Math.round(total * 0.6180339887498949));
    while (gcd(stride, total) != 1) {
      stride++;
    }
    return stride;
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  /** Walks a precomputed period. */
  private static final class PeriodPicker extends SnapshotPicker {

    private final int[] period;
    private final AtomicLong next = new AtomicLong();

    PeriodPicker(List<Endpoint> endpoints, int[] period) {
      super(endpoints);
      this.period = period;
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      int length = period.length;
      int position = Math.floorMod(next.getAndIncrement(), length);
      Endpoint endpoint = endpoints[period[position]];
      if (excluded.isEmpty() || !excluded.contains(endpoint.id())) {
        return endpoint;
      }
      if (allExcluded(excluded)) {
        return null;
      }
      // Some endpoint is not excluded, and every endpoint appears in the period: this ends.
      for (int i = 1; ; i++) {
        endpoint = endpoints[period[(position + i) % length]];
        if (!excluded.contains(endpoint.id())) {
          return endpoint;
        }
      }
    }
  }

  /** Maps each position of the period through a coprime stride onto the cumulative weights. */
  private static final class StridePicker extends SnapshotPicker {

    /** {@code ends[i]} is the sum of the weights of endpoints 0 to i. */
    private final long[] ends;

    private final long total;
    private final long stride;

    /**
     * The position in the permuted period, {@code (n * stride) mod total} for the n-th pick; kept
     * directly (not n) so that the multiplication cannot overflow whatever the total.
     */
    private final AtomicLong position = new AtomicLong();

    StridePicker(List<Endpoint> endpoints, int[] weights, long total) {
      super(endpoints);
      this.total = total;
      this.ends = new long[weights.length];
      long sum = 0;
      for (int i = 0; i < weights.length; i++) {
        sum += weights[i];
        ends[i] = sum;
      }
      this.stride = coprimeStride(total);
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      // Lock-free: a CAS fails only when another pick advanced the position, and then retries.
      // position + stride < 2 * total, which fits in a long.
      long value;
      long following;
      do {
        value = position.get();
        following = value + stride;
        if (following >= total) {
          following -= total;
        }
      } while (!position.compareAndSet(value, following));
      int index = owner(value);
      if (excluded.isEmpty() || !excluded.contains(endpoints[index].id())) {
        return endpoints[index];
      }
      for (int i = 1; i < endpoints.length; i++) {
        Endpoint endpoint = endpoints[(index + i) % endpoints.length];
        if (!excluded.contains(endpoint.id())) {
          return endpoint;
        }
      }
      return null;
    }

    /** The index of the endpoint whose cumulative-weight range holds {@code value}. */
    private int owner(long value) {
      int low = 0;
      int high = ends.length - 1;
      while (low < high) {
        int mid = (low + high) >>> 1;
        if (ends[mid] > value) {
          high = mid;
        } else {
          low = mid + 1;
        }
      }
      return low;
    }
  }
}
