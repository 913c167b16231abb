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
 *
 * <p>Slow start: while the {@link Ramp} eases some endpoint in, each comparison uses the effective
 * weight {@code weight × factor} (in thousandths) instead of the weight, as HAProxy's leastconn
 * uses {@code (inflight + 1) / eweight}: an endpoint at factor 0.1 is picked only while the others
 * have ten times its load. The effective weights come from the ramp's current step (one volatile
 * read per pick); once every ramp is over they are the weights times 1000, the same comparisons.
 */
public final class LeastConnectionsStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "least-connections";

  private final RandomGenerator random;
  private final Ramp ramp;

  /**
   * @param random breaks ties; shared by the pickers' threads, so it must be thread-safe
   */
  public LeastConnectionsStrategy(RandomGenerator random) {
    this(random, Ramp.OFF);
  }

  /**
   * @param random breaks ties; shared by the pickers' threads, so it must be thread-safe
   * @param ramp the service's slow start
   */
  public LeastConnectionsStrategy(RandomGenerator random, Ramp ramp) {
    this.random = Objects.requireNonNull(random, "random");
    this.ramp = Objects.requireNonNull(ramp, "ramp");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    return new LeastConnectionsPicker(
        endpoints, Objects.requireNonNull(counts, "counts"), random, ramp);
  }

  private static final class LeastConnectionsPicker extends SnapshotPicker {

    private final LoadCounts counts;
    private final RandomGenerator random;

    /** The effective weights of the ramp's steps, by index; null without a ramp. */
    private final Ramp.Steps<int[]> ramped;

    LeastConnectionsPicker(
        List<Endpoint> endpoints, LoadCounts counts, RandomGenerator random, Ramp ramp) {
      super(endpoints);
      this.counts = counts;
      this.random = random;
      this.ramped = ramp.rampsAny(endpoints) ? effectiveWeights(this.endpoints, ramp) : null;
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      int[] weights = ramped == null ? null : ramped.current();
      Endpoint best = null;
      long bestInFlight = 0;
      int bestWeight = 0;
      int ties = 0;
      for (int i = 0; i < endpoints.length; i++) {
        Endpoint endpoint = endpoints[i];
        if (!excluded.isEmpty() && excluded.contains(endpoint.id())) {
          continue;
        }
        long inFlight = counts.inFlight(endpoint.id());
        int weight = weights == null ? endpoint.weight() : weights[i];
        int order = best == null ? -1 : compareLoad(inFlight, weight, bestInFlight, bestWeight);
        if (order < 0) {
          best = endpoint;
          bestInFlight = inFlight;
          bestWeight = weight;
          ties = 1;
        } else if (order == 0 && random.nextInt(++ties) == 0) {
          // The k-th of k tied endpoints replaces the choice with probability 1/k: uniform.
          best = endpoint;
          bestInFlight = inFlight;
          bestWeight = weight;
        }
      }
      return best;
    }
  }
}
