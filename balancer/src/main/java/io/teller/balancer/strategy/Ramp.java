package io.teller.balancer.strategy;

import io.teller.common.model.SlowStart;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Slow start as a strategy's pickers apply it: the service's {@link SlowStart} settings and the
 * clock that tells the time. An endpoint is eased in when its {@link Endpoint#rampFromMillis()} is
 * set; its effective weight is then {@code weight × factor}, the factor growing from the settings'
 * minimum to 1 over the window ({@link SlowStart#factor}).
 *
 * <p>A picker serves one immutable snapshot, but a ramp changes weights as time passes, with no
 * registry change to build a new picker. So a picker whose snapshot has an endpoint still ramping
 * holds {@link Steps}: the factors of one moment, and what its strategy derives from them (a
 * schedule, effective weights, admission thresholds), computed once per step by the first pick that
 * finds the last step over. A step is 1% of the window (shorter when aggression is below 1, where
 * the ramp is steeper at its end), so a factor is never more than about 1% of the weight behind.
 *
 * <p>Why steps rather than a factor per pick: a pick then costs a volatile read and a clock read,
 * and allocates nothing, where deriving a schedule per pick costs O(n) and allocates. Why on a pick
 * rather than a timer: nothing to schedule or cancel when a picker is swapped out, and a picker
 * nobody uses costs nothing. Once every ramp of the snapshot is over, the last step holds for good
 * and a pick no longer reads the clock.
 *
 * <p>Factors are kept in thousandths (1 to 1000) so that effective weights are integers and the
 * strategies keep their exact integer arithmetic.
 */
public final class Ramp {

  /** No slow start: every endpoint gets its full weight. */
  public static final Ramp OFF = new Ramp(null, InstantSource.system());

  /** A factor of 1, in thousandths. */
  static final int FULL = 1000;

  /** Steps per window (at aggression 1 and above). */
  static final int STEPS_PER_WINDOW = 100;

  private final SlowStart settings;
  private final InstantSource clock;

  private Ramp(SlowStart settings, InstantSource clock) {
    this.settings = settings;
    this.clock = clock;
  }

  /**
   * A ramp with these settings, read by this clock.
   *
   * @param settings the service's slow start, or null for none ({@link #OFF})
   * @param clock tells the time in epoch milliseconds, the registry's time base; shared by the
   *     pickers' threads, so thread-safe
   */
  public static Ramp of(SlowStart settings, InstantSource clock) {
    Objects.requireNonNull(clock, "clock");
    return settings == null ? OFF : new Ramp(settings, clock);
  }

  /** The settings, or null when off. */
  public SlowStart settings() {
    return settings;
  }

  /** Whether some endpoint of {@code endpoints} is still to be eased in, now or later. */
  boolean rampsAny(List<Endpoint> endpoints) {
    if (settings == null) {
      return false;
    }
    long now = clock.millis();
    for (Endpoint endpoint : endpoints) {
      if (endpoint.ramps() && now - endpoint.rampFromMillis() < settings.windowMs()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The steps of this ramp over {@code endpoints}; only when {@link #rampsAny} (and the settings
   * are on).
   *
   * @param derive what a picker needs of each step's factors, in thousandths, by index into {@code
   *     endpoints}; called from picking threads, with a new array each time (it may keep it, or
   *     change it and return it)
   */
  <T> Steps<T> steps(Endpoint[] endpoints, Function<int[], T> derive) {
    return new Steps<>(this, endpoints, derive);
  }

  /** How long one step lasts. */
  long stepMillis() {
    return Math.max(
        1, Math.round(settings.windowMs() * Math.min(1, settings.aggression()) / STEPS_PER_WINDOW));
  }

  /**
   * A ramp's steps over one snapshot: the current step's factors and what a picker derived from
   * them, replaced when the step is over. Thread-safe: two picks that find a step over at once may
   * both compute the next one, and either result is right.
   */
  static final class Steps<T> {

    private final SlowStart settings;
    private final InstantSource clock;
    private final long stepMillis;
    private final long[] from;
    private final Function<int[], T> derive;
    private volatile Step<T> step;

    /** One step: valid from {@code start} (inclusive) to {@code end}, or for good when last. */
    private record Step<T>(long start, long end, boolean last, T value) {}

    private Steps(Ramp ramp, Endpoint[] endpoints, Function<int[], T> derive) {
      this.settings = ramp.settings;
      this.clock = ramp.clock;
      this.stepMillis = ramp.stepMillis();
      this.derive = derive;
      this.from = new long[endpoints.length];
      for (int i = 0; i < endpoints.length; i++) {
        from[i] = endpoints[i].rampFromMillis();
      }
      this.step = compute(clock.millis());
    }

    /** What the picker derived from the factors of now (of this step). */
    T current() {
      Step<T> current = step;
      if (current.last()) {
        return current.value();
      }
      long now = clock.millis();
      if (now >= current.start() && now < current.end()) {
        return current.value();
      }
      current = compute(now);
      step = current;
      return current.value();
    }

    private Step<T> compute(long now) {
      int[] thousandths = new int[from.length];
      boolean last = true;
      for (int i = 0; i < from.length; i++) {
        thousandths[i] = FULL;
        if (from[i] != Endpoint.NO_RAMP) {
          long elapsed = now - from[i];
          if (elapsed < settings.windowMs()) {
            thousandths[i] = thousandths(settings.factor(elapsed));
            last = false;
          }
        }
      }
      return new Step<>(
          now, last ? Long.MAX_VALUE : now + stepMillis, last, derive.apply(thousandths));
    }
  }

  /** A factor in thousandths, 1 to 1000. */
  static int thousandths(double factor) {
    return (int) Math.max(1, Math.min(FULL, Math.round(factor * FULL)));
  }
}
