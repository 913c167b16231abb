package io.teller.balancer.strategy;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * {@code least-connections}: the endpoint with the fewest requests in flight relative to its
 * weight.
 *
 * <p>Each pick reads every endpoint's in-flight count once and picks the one that minimises {@code
 * (inFlight + 1) / weight}, the load it would have with this request, compared by
 * cross-multiplication (no floating point). The {@code + 1} makes weight count when nothing is in
 * flight: an idle weight-4 endpoint is preferred to an idle weight-1 one, and weight 4 with 4 in
 * flight (5/4) beats weight 1 with 1 in flight (2/1). Ties are broken uniformly at random with the
 * injected generator (reservoir sampling over the tied endpoints, one pass, no allocation), so
 * equal endpoints share traffic instead of the first one taking every tie.
 *
 * <p>O(n) per pick. The counts are as fresh as {@link LoadCounts} makes them; the picker holds no
 * state of its own and is safe for concurrent picks as long as the generator is (as {@link
 * java.util.Random} and the default thread-local generator are).
 */
public final class LeastConnectionsStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "least-connections";

  private final RandomGenerator random;

  /**
   * @param random breaks ties; shared by the pickers' threads, so it must be thread-safe
   */
  public LeastConnectionsStrategy(RandomGenerator random) {
    this.random = Objects.requireNonNull(random, "random");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    return new LeastConnectionsPicker(endpoints, Objects.requireNonNull(counts, "counts"), random);
  }

  private static final class LeastConnectionsPicker extends SnapshotPicker {

    private final LoadCounts counts;
    private final RandomGenerator random;

    LeastConnectionsPicker(List<Endpoint> endpoints, LoadCounts counts, RandomGenerator random) {
      super(endpoints);
      this.counts = counts;
      this.random = random;
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      Endpoint best = null;
      long bestInFlight = 0;
      int ties = 0;
      for (Endpoint endpoint : endpoints) {
        if (!excluded.isEmpty() && excluded.contains(endpoint.id())) {
          continue;
        }
        long inFlight = counts.inFlight(endpoint.id());
        int order =
            best == null
                ? -1
                : compareLoad(inFlight, endpoint.weight(), bestInFlight, best.weight());
        if (order < 0) {
          best = endpoint;
          bestInFlight = inFlight;
          ties = 1;
        } else if (order == 0 && random.nextInt(++ties) == 0) {
          // The k-th of k tied endpoints replaces the choice with probability 1/k: uniform.
          best = endpoint;
          bestInFlight = inFlight;
        }
      }
      return best;
    }
  }
}
