package io.teller.balancer.strategy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The picker of {@code round-robin} and {@code weighted-round-robin} while a slow start eases some
 * endpoint in: a weighted rotation whose weights follow the {@link Ramp}.
 *
 * <p>Each step of the ramp gives each endpoint the effective weight {@code weight × factor} (in
 * thousandths, divided by the weights' greatest common divisor) and a {@link Schedule} of those
 * weights: nginx's smooth period when it is short enough to compute, else the stride permutation of
 * {@link WeightedRoundRobinStrategy}. Picks take positions from one counter that runs on across
 * steps, so any whole period of picks within one step splits exactly in proportion to that step's
 * effective weights, whichever threads pick (one atomic increment per pick, no lock). An excluded
 * endpoint is replaced by the next one in snapshot order that is not; the position is still taken.
 */
final class RampedRotation extends SnapshotPicker {

  private final Ramp.Steps<Schedule> steps;
  private final AtomicLong next;

  /**
   * @param weights each endpoint's weight before the ramp, in snapshot order
   * @param start the counter's first position
   */
  RampedRotation(List<Endpoint> snapshot, int[] weights, Ramp ramp, long start) {
    super(snapshot);
    int[] base = weights.clone();
    this.steps = ramp.steps(endpoints, factors -> Schedule.of(effective(base, factors)));
    this.next = new AtomicLong(start);
  }

  /** Each weight times its factor in thousandths, divided by their greatest common divisor. */
  static int[] effective(int[] weights, int[] thousandths) {
    int[] effective = new int[weights.length];
    int divisor = 0;
    for (int i = 0; i < weights.length; i++) {
      effective[i] = weights[i] * thousandths[i];
      divisor = WeightedRoundRobinStrategy.gcd(divisor, effective[i]);
    }
    for (int i = 0; i < effective.length; i++) {
      effective[i] /= divisor;
    }
    return effective;
  }

  @Override
  Endpoint choose(PickContext context, Set<String> excluded) {
    Schedule schedule = steps.current();
    int index = schedule.indexAt(next.getAndIncrement());
    Endpoint endpoint = endpoints[index];
    if (excluded.isEmpty() || !excluded.contains(endpoint.id())) {
      return endpoint;
    }
    for (int i = 1; i < endpoints.length; i++) {
      endpoint = endpoints[(index + i) % endpoints.length];
      if (!excluded.contains(endpoint.id())) {
        return endpoint;
      }
    }
    return null;
  }

  /** Which endpoint the n-th pick of one step goes to. Immutable. */
  abstract static class Schedule {

    /** The index of the endpoint at position {@code n} (any long, negative too). */
    abstract int indexAt(long n);

    /** The schedule of these weights (each at least 1, reduced by their gcd). */
    static Schedule of(int[] weights) {
      long total = 0;
      for (int weight : weights) {
        total += weight;
      }
      if (total <= WeightedRoundRobinStrategy.MAX_PERIOD
          && total * weights.length <= WeightedRoundRobinStrategy.MAX_BUILD_STEPS) {
        return new Period(WeightedRoundRobinStrategy.smoothPeriod(weights, (int) total));
      }
      return new Stride(weights, total);
    }
  }

  /** nginx's smooth weighted round robin, one period computed ahead. */
  static final class Period extends Schedule {
    private final int[] period;

    Period(int[] period) {
      this.period = period;
    }

    @Override
    int indexAt(long n) {
      return period[(int) Math.floorMod(n, (long) period.length)];
    }
  }

  /**
   * Position {@code n} maps to {@code (n × stride) mod total} with a stride coprime with the total
   * (a permutation of the period), which falls into one endpoint's range of cumulative weight.
   */
  static final class Stride extends Schedule {
    private final long[] ends;
    private final long total;
    private final long stride;

    Stride(int[] weights, long total) {
      this.total = total;
      this.ends = new long[weights.length];
      long sum = 0;
      for (int i = 0; i < weights.length; i++) {
        sum += weights[i];
        ends[i] = sum;
      }
      this.stride = WeightedRoundRobinStrategy.coprimeStride(total);
    }

    @Override
    int indexAt(long n) {
      long value = mulMod(Math.floorMod(n, total), stride, total);
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

    /** {@code a × b mod m} for {@code 0 <= a, b < m < 2^62}, without overflow. */
    static long mulMod(long a, long b, long m) {
      if (a < 3_037_000_499L && b < 3_037_000_499L) {
        return a * b % m; // below sqrt(2^63): the product fits
      }
      // Totals this large need thousands of endpoints: double and add, 63 rounds at most.
      long result = 0;
      for (long x = a, y = b; y > 0; y >>= 1) {
        if ((y & 1) == 1) {
          result = (result + x) % m;
        }
        x = (x + x) % m;
      }
      return result;
    }
  }
}
