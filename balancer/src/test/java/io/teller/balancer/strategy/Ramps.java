package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.endpoint;
import static io.teller.balancer.strategy.TestRequest.ramping;

import io.teller.common.model.SlowStart;
import java.util.List;

/** A slow start used across the strategy tests: linear over 10 s from 10%. */
final class Ramps {

  /** When the newcomer became eligible, epoch ms. */
  static final long T0 = 1_700_000_000_000L;

  /** Linear over 10 s, from 10%: at T0 + k seconds the factor is k/10 (0.1 for k up to 1). */
  static final SlowStart TEN_SECONDS = new SlowStart(10_000, 1.0, 10);

  private Ramps() {}

  static Ramp linear(ManualClock clock) {
    return Ramp.of(TEN_SECONDS, clock);
  }

  /** a, b and c at weight 1 and full share; d at weight 1, eased in from {@link #T0}. */
  static List<Endpoint> threeAndANewcomer() {
    return List.of(endpoint("a", 1), endpoint("b", 1), endpoint("c", 1), ramping("d", 1, T0));
  }

  /** The moment {@code seconds} into d's ramp. */
  static long at(double seconds) {
    return T0 + Math.round(seconds * 1000);
  }
}
