package io.teller.balancer.strategy;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;

/**
 * {@code round-robin}: strict rotation over the snapshot, in snapshot order, ignoring weights.
 *
 * <p>Each picker starts at a random offset drawn from the injected generator, so that many
 * balancers (and every new snapshot) don't all send their first request to the first endpoint. From
 * there, the n-th pick goes to endpoint {@code (offset + n) mod size}: over any {@code size}
 * consecutive picks each endpoint gets exactly one, whichever threads pick (one atomic increment
 * per pick, no lock). An excluded endpoint is skipped for the next one in rotation order, without
 * moving the rotation for other requests.
 *
 * <p>Slow start: while the {@link Ramp} eases some endpoint of the snapshot in, weights no longer
 * all equal: each endpoint's is its factor (in thousandths), and the picker is a {@link
 * RampedRotation} over those, from a random position. Once every ramp is over, the rotation is
 * strict again.
 */
public final class RoundRobinStrategy implements Strategy {

  /** This strategy's name in configuration. */
  public static final String NAME = "round-robin";

  private final RandomGenerator random;
  private final Ramp ramp;

  /**
   * @param random draws each picker's starting offset
   */
  public RoundRobinStrategy(RandomGenerator random) {
    this(random, Ramp.OFF);
  }

  /**
   * @param random draws each picker's starting offset
   * @param ramp the service's slow start
   */
  public RoundRobinStrategy(RandomGenerator random, Ramp ramp) {
    this.random = Objects.requireNonNull(random, "random");
    this.ramp = Objects.requireNonNull(ramp, "ramp");
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Picker picker(List<Endpoint> endpoints, LoadCounts counts) {
    if (ramp.rampsAny(endpoints)) {
      int[] ones = new int[endpoints.size()];
      Arrays.fill(ones, 1);
      return new RampedRotation(endpoints, ones, ramp, random.nextInt(endpoints.size()));
    }
    return new RoundRobinPicker(endpoints, random);
  }

  private static final class RoundRobinPicker extends SnapshotPicker {

    private final AtomicLong next;

    RoundRobinPicker(List<Endpoint> endpoints, RandomGenerator random) {
      super(endpoints);
      this.next =
          new AtomicLong(this.endpoints.length == 0 ? 0 : random.nextInt(this.endpoints.length));
    }

    @Override
    Endpoint choose(PickContext context, Set<String> excluded) {
      int size = endpoints.length;
      int start = Math.floorMod(next.getAndIncrement(), size);
      for (int i = 0; i < size; i++) {
        Endpoint endpoint = endpoints[(start + i) % size];
        if (!excluded.contains(endpoint.id())) {
          return endpoint;
        }
      }
      return null;
    }
  }
}
