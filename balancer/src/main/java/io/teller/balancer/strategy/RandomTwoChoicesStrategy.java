package io.teller.balancer.strategy;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * {@code random-two-choices}: the power of two choices. Each pick draws two distinct endpoints
 * uniformly at random and takes the less loaded, by {@code (inFlight + 1) / weight} as in {@link
 * LeastConnectionsStrategy} (the first drawn on a tie).
 *
 * <p>Guarantees: O(1) per pick (two count reads, no scan); an endpoint more loaded than every other
 * is never picked, since whichever endpoint it is drawn with wins; with one endpoint left, that one
 * is picked without drawing. Compared with least-connections, it does not send every request to the
 * one endpoint that looks idle while counts are stale (several balancers sharing counts a few
 * milliseconds late), yet keeps the busiest endpoint far closer to the average than plain random
 * (Mitzenmacher's "power of two choices").
 *
 * <p>With excluded endpoints (retries), the two are drawn among those not excluded, which costs one
 * small allocation per retry. Thread-safe as long as the injected generator is.
 *
 * <p>Slow start: while the {@link Ramp} eases some endpoint in, the two are compared by {@code
 * (inFlight + 1) / (weight × factor)}, the effective weight of the ramp's current step, as in
 * {@link LeastConnectionsStrategy}; the draw itself stays uniform.
 */
public final class RandomTwoChoicesStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "random-two-choices";

  private final RandomGenerator random;
  private final Ramp ramp;

  /**
   * @param random draws the two choices; shared by the pickers' threads, so thread-safe
   */
  public RandomTwoChoicesStrategy(RandomGenerator random) {
    this(random, Ramp.OFF);
  }

  /**
   * @param random draws the two choices; shared by the pickers' threads, so thread-safe
   * @param ramp the service's slow start
   */
  public RandomTwoChoicesStrategy(RandomGenerator random, Ramp ramp) {
    this.random = Objects.requireNonNull(random, "random");
    this.ramp = Objects.requireNonNull(ramp, "ramp");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    return new TwoChoicesPicker(endpoints, Objects.requireNonNull(counts, "counts"), random, ramp);
  }

  private static final class TwoChoicesPicker extends SnapshotPicker {

    private final LoadCounts counts;
    private final RandomGenerator random;

    /** The effective weights of the ramp's steps, by index; null without a ramp. */
    private final Ramp.Steps<int[]> ramped;

    TwoChoicesPicker(
        List<Endpoint> endpoints, LoadCounts counts, RandomGenerator random, Ramp ramp) {
      super(endpoints);
      this.counts = counts;
      this.random = random;
      this.ramped = ramp.rampsAny(endpoints) ? effectiveWeights(this.endpoints, ramp) : null;
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      if (excluded.isEmpty()) {
        return better(null, endpoints.length);
      }
      int[] candidates = new int[endpoints.length];
      int size = 0;
      for (int i = 0; i < endpoints.length; i++) {
        if (!excluded.contains(endpoints[i].id())) {
          candidates[size++] = i;
        }
      }
      return size == 0 ? null : better(candidates, size);
    }

    /**
     * The less loaded of two distinct endpoints drawn among the first {@code size} candidates.
     *
     * @param candidates indexes into the snapshot, or null for the whole snapshot
     */
    private Endpoint better(int[] candidates, int size) {
      if (size == 1) {
        return endpoints[candidates == null ? 0 : candidates[0]];
      }
      int first = random.nextInt(size);
      int second = random.nextInt(size - 1);
      if (second >= first) {
        second++;
      }
      if (candidates != null) {
        first = candidates[first];
        second = candidates[second];
      }
      Endpoint a = endpoints[first];
      Endpoint b = endpoints[second];
      int[] weights = ramped == null ? null : ramped.current();
      int weightA = weights == null ? a.weight() : weights[first];
      int weightB = weights == null ? b.weight() : weights[second];
      long inFlightA = counts.inFlight(a.id());
      long inFlightB = counts.inFlight(b.id());
      return compareLoad(inFlightB, weightB, inFlightA, weightA) < 0 ? b : a;
    }
  }
}
