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
 */
public final class RandomTwoChoicesStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "random-two-choices";

  private final RandomGenerator random;

  /**
   * @param random draws the two choices; shared by the pickers' threads, so thread-safe
   */
  public RandomTwoChoicesStrategy(RandomGenerator random) {
    this.random = Objects.requireNonNull(random, "random");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    return new TwoChoicesPicker(endpoints, Objects.requireNonNull(counts, "counts"), random);
  }

  private static final class TwoChoicesPicker extends SnapshotPicker {

    private final LoadCounts counts;
    private final RandomGenerator random;

    TwoChoicesPicker(List<Endpoint> endpoints, LoadCounts counts, RandomGenerator random) {
      super(endpoints);
      this.counts = counts;
      this.random = random;
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      if (excluded.isEmpty()) {
        return better(endpoints, endpoints.length);
      }
      Endpoint[] candidates = new Endpoint[endpoints.length];
      int size = 0;
      for (Endpoint endpoint : endpoints) {
        if (!excluded.contains(endpoint.id())) {
          candidates[size++] = endpoint;
        }
      }
      return size == 0 ? null : better(candidates, size);
    }

    /** The less loaded of two distinct endpoints drawn among the first {@code size}. */
    private Endpoint better(Endpoint[] candidates, int size) {
      if (size == 1) {
        return candidates[0];
      }
      int first = random.nextInt(size);
      int second = random.nextInt(size - 1);
      if (second >= first) {
        second++;
      }
      Endpoint a = candidates[first];
      Endpoint b = candidates[second];
      long inFlightA = counts.inFlight(a.id());
      long inFlightB = counts.inFlight(b.id());
      return compareLoad(inFlightB, b.weight(), inFlightA, a.weight()) < 0 ? b : a;
    }
  }
}
