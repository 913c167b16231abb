package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.Ramps.T0;
import static io.teller.balancer.strategy.Ramps.TEN_SECONDS;
import static io.teller.balancer.strategy.Ramps.at;
import static io.teller.balancer.strategy.TestRequest.endpoint;
import static io.teller.balancer.strategy.TestRequest.ramping;
import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.model.SlowStart;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RampTest {

  private final ManualClock clock = new ManualClock(T0);
  private final List<int[]> derived = new ArrayList<>();

  private Ramp.Steps<int[]> steps(Ramp ramp, Endpoint... endpoints) {
    return ramp.steps(
        endpoints,
        factors -> {
          derived.add(factors);
          return factors;
        });
  }

  @Test
  void factorsInThousandthsFollowTheFormula() {
    Ramp.Steps<int[]> steps =
        steps(Ramps.linear(clock), endpoint("a", 1), ramping("d", 1, T0), ramping("e", 1, at(4)));

    assertThat(steps.current()).containsExactly(1000, 100, 100);
    clock.at(at(2.5));
    assertThat(steps.current()).containsExactly(1000, 250, 100);
    clock.at(at(7.5));
    assertThat(steps.current()).containsExactly(1000, 750, 350);
    clock.at(at(10));
    assertThat(steps.current()).containsExactly(1000, 1000, 600);
    clock.at(at(14));
    assertThat(steps.current()).containsExactly(1000, 1000, 1000);
  }

  @Test
  void aStepIsAHundredthOfTheWindowAndIsComputedOnce() {
    Ramp ramp = Ramps.linear(clock);
    assertThat(ramp.stepMillis()).isEqualTo(100);
    Ramp.Steps<int[]> steps = steps(ramp, endpoint("a", 1), ramping("d", 1, T0));
    clock.at(at(5));
    int[] first = steps.current();

    clock.at(at(5.099));
    assertThat(steps.current()).isSameAs(first).containsExactly(1000, 500);
    clock.at(at(5.1));
    assertThat(steps.current()).containsExactly(1000, 510);
    // One at construction, one at 5 s, one at 5.1 s.
    assertThat(derived).hasSize(3);
  }

  @Test
  void aSteeperEndTakesShorterSteps() {
    assertThat(Ramp.of(new SlowStart(10_000, 0.5, 10), clock).stepMillis()).isEqualTo(50);
    assertThat(Ramp.of(new SlowStart(10_000, 4, 10), clock).stepMillis()).isEqualTo(100);
    assertThat(Ramp.of(new SlowStart(1_000, 0.1, 10), clock).stepMillis()).isEqualTo(1);
  }

  @Test
  void onceEveryRampIsOverThePicksReadNoClock() {
    Ramp.Steps<int[]> steps = steps(Ramps.linear(clock), endpoint("a", 1), ramping("d", 1, T0));
    clock.at(at(10));
    assertThat(steps.current()).containsExactly(1000, 1000);
    long reads = clock.reads();

    for (int i = 0; i < 1_000; i++) {
      steps.current();
    }

    assertThat(clock.reads()).isEqualTo(reads);
  }

  @Test
  void aClockThatGoesBackRecomputes() {
    Ramp.Steps<int[]> steps = steps(Ramps.linear(clock), endpoint("a", 1), ramping("d", 1, T0));
    clock.at(at(6));
    assertThat(steps.current()).containsExactly(1000, 600);

    clock.at(at(3));
    assertThat(steps.current()).containsExactly(1000, 300);
  }

  @Test
  void rampsOnlyWhileSomeEndpointIsInItsWindow() {
    Ramp ramp = Ramps.linear(clock.at(at(3)));

    assertThat(ramp.rampsAny(List.of(endpoint("a", 1), ramping("d", 1, T0)))).isTrue();
    assertThat(ramp.rampsAny(List.of(endpoint("a", 1), ramping("d", 1, at(20))))).isTrue();
    assertThat(ramp.rampsAny(List.of(endpoint("a", 1), ramping("d", 1, at(-7))))).isFalse();
    assertThat(ramp.rampsAny(List.of(endpoint("a", 1)))).isFalse();
    assertThat(Ramp.OFF.rampsAny(List.of(ramping("d", 1, T0)))).isFalse();
    assertThat(Ramp.of(null, clock)).isSameAs(Ramp.OFF);
  }

  @Test
  void thousandthsAreRoundedAndNeverZero() {
    assertThat(Ramp.thousandths(0.1234)).isEqualTo(123);
    assertThat(Ramp.thousandths(0.1235)).isEqualTo(124);
    assertThat(Ramp.thousandths(0.0001)).isEqualTo(1);
    assertThat(Ramp.thousandths(1)).isEqualTo(1000);
    assertThat(TEN_SECONDS.factor(1_234)).isEqualTo(0.1234);
  }
}
