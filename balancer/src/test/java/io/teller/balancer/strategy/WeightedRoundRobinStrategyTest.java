package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.ANY;
import static io.teller.balancer.strategy.TestRequest.counts;
import static io.teller.balancer.strategy.TestRequest.endpoint;
import static io.teller.balancer.strategy.TestRequest.picks;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WeightedRoundRobinStrategyTest {

  private final Strategy strategy = new WeightedRoundRobinStrategy();

  private Picker picker(Endpoint... endpoints) {
    return strategy.picker(List.of(endpoints), LoadCounts.NONE);
  }

  @Test
  void givesNginxsSmoothSequenceCycleAfterCycle() {
    Picker picker = picker(endpoint("a", 5), endpoint("b", 1), endpoint("c", 1));

    List<String> cycle = List.of("a", "a", "b", "a", "c", "a", "a");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      expected.addAll(cycle);
    }
    assertThat(picks(picker, ANY, 21)).isEqualTo(expected);
  }

  @Test
  void threeToOneGivesThreeAndOneInFourPicks() {
    Picker picker = picker(endpoint("a", 3), endpoint("b", 1));

    assertThat(picks(picker, ANY, 4)).containsExactly("a", "a", "b", "a");
  }

  @Test
  void exactProportionsOverWholeCycles() {
    Picker picker = picker(endpoint("a", 2), endpoint("b", 3), endpoint("c", 5));

    assertThat(counts(picker, ANY, 1000)).isEqualTo(Map.of("a", 200, "b", 300, "c", 500));
  }

  @Test
  void exactProportionsOverEveryCycleNotOnlyInTotal() {
    Picker picker = picker(endpoint("a", 2), endpoint("b", 3), endpoint("c", 5));

    for (int cycle = 0; cycle < 50; cycle++) {
      assertThat(counts(picker, ANY, 10)).isEqualTo(Map.of("a", 2, "b", 3, "c", 5));
    }
  }

  @Test
  void scaledWeightsGiveTheSameSequence() {
    Picker small = picker(endpoint("a", 5), endpoint("b", 1), endpoint("c", 1));
    Picker large = picker(endpoint("a", 500), endpoint("b", 100), endpoint("c", 100));

    assertThat(picks(large, ANY, 70)).isEqualTo(picks(small, ANY, 70));
  }

  @Test
  void equalWeightsRotateInSnapshotOrder() {
    Picker picker = picker(endpoint("a", 3), endpoint("b", 3), endpoint("c", 3));

    assertThat(picks(picker, ANY, 6)).containsExactly("a", "b", "c", "a", "b", "c");
  }

  @Test
  void exclusionTakesTheNextScheduledEndpointAndConsumesThePosition() {
    Picker picker = picker(endpoint("a", 5), endpoint("b", 1), endpoint("c", 1));

    // Positions a a b a c a a; a excluded: each a is replaced by the next b or c in the cycle.
    assertThat(picks(picker, ANY.excluding("a"), 7))
        .containsExactly("b", "b", "b", "c", "c", "b", "b");
    // The cycle goes on where it was: the second cycle starts.
    assertThat(picks(picker, ANY, 7)).containsExactly("a", "a", "b", "a", "c", "a", "a");
    assertThat(picker.pick(ANY.excluding("a", "b", "c"))).isNull();
  }

  @Test
  void aPeriodTooLongToPrecomputeKeepsExactProportions() {
    // 7001 + 3000 = 10001 > MAX_PERIOD, and gcd 1: the stride fallback.
    Picker picker = picker(endpoint("a", 7001), endpoint("b", 3000));

    assertThat(counts(picker, ANY, 10_001)).isEqualTo(Map.of("a", 7001, "b", 3000));
    List<String> twoPeriods = picks(picker, ANY, 20_002);
    assertThat(Collections.frequency(twoPeriods, "a")).isEqualTo(14_002);
    assertThat(Collections.frequency(twoPeriods, "b")).isEqualTo(6_000);
    // Interleaved, not in runs: 7:3 never gives more than a few a's in a row.
    assertThat(longestRun(twoPeriods, "a")).isLessThanOrEqualTo(4);
    assertThat(longestRun(twoPeriods, "b")).isLessThanOrEqualTo(2);
  }

  @Test
  void tooManyEndpointsToPrecomputeKeepsExactProportions() {
    // 1500 endpoints of weight 1 or 2: period 2250, but 1500 × 2250 steps to compute it.
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < 1500; i++) {
      endpoints.add(endpoint("e" + i, 1 + i % 2));
    }
    Picker picker = strategy.picker(endpoints, LoadCounts.NONE);

    Map<String, Integer> counts = counts(picker, ANY, 2 * 2250);
    for (int i = 0; i < 1500; i++) {
      assertThat(counts.get("e" + i)).as("e" + i).isEqualTo(2 * (1 + i % 2));
    }
  }

  @Test
  void fallbackExclusionTakesTheNextEndpointInSnapshotOrder() {
    Picker picker = picker(endpoint("a", 7001), endpoint("b", 3000), endpoint("c", 1));

    Map<String, Integer> counts = counts(picker, ANY.excluding("a"), 10_002);
    assertThat(counts).isEqualTo(Map.of("b", 7001 + 3000, "c", 1));
    assertThat(picker.pick(ANY.excluding("a", "b", "c"))).isNull();
  }

  @Test
  void concurrentPicksKeepTheProportionsExact() throws InterruptedException {
    Picker picker = picker(endpoint("a", 2), endpoint("b", 3), endpoint("c", 5));

    // 4 × 25 000 = 100 000 picks = 10 000 whole cycles of 10.
    Map<String, Long> counts = Concurrently.pick(picker, 4, 25_000);

    assertThat(counts).isEqualTo(Map.of("a", 20_000L, "b", 30_000L, "c", 50_000L));
  }

  @Test
  void concurrentPicksStayExactUnderLongerContention() throws InterruptedException {
    // The same over 2 000 000 picks, long enough for the threads to overlap on a small machine:
    // with a racy cursor (read, then written) this failed 5 runs of 6 on 2 cores, the short one
    // above only 1 of 5.
    Picker picker = picker(endpoint("a", 2), endpoint("b", 3), endpoint("c", 5));

    Map<String, Long> counts = Concurrently.pick(picker, 4, 500_000);

    assertThat(counts).isEqualTo(Map.of("a", 400_000L, "b", 600_000L, "c", 1_000_000L));
  }

  @Test
  void concurrentPicksKeepTheFallbackExactToo() throws InterruptedException {
    // 10 001 + 2 499 = 12 500 > MAX_PERIOD; 100 000 picks = 8 whole periods.
    Picker picker = picker(endpoint("a", 10_001), endpoint("b", 2_499));

    Map<String, Long> counts = Concurrently.pick(picker, 4, 25_000);

    assertThat(counts).isEqualTo(Map.of("a", 80_008L, "b", 19_992L));
  }

  @Test
  void smoothPeriodIsNginxs() {
    assertThat(WeightedRoundRobinStrategy.smoothPeriod(new int[] {5, 1, 1}, 7))
        .containsExactly(0, 0, 1, 0, 2, 0, 0);
    assertThat(WeightedRoundRobinStrategy.smoothPeriod(new int[] {1}, 1)).containsExactly(0);
  }

  private static int longestRun(List<String> ids, String id) {
    int longest = 0;
    int run = 0;
    for (String each : ids) {
      run = each.equals(id) ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    return longest;
  }

  // Slow start: the newcomer became eligible at Ramps.T0 and ramps linearly over 10 s from 10%.

  @Test
  void aNewcomersEffectiveWeightIsItsWeightTimesItsFactor() {
    ManualClock clock = new ManualClock(Ramps.T0);
    Picker picker =
        new WeightedRoundRobinStrategy(Ramps.linear(clock))
            .picker(
                List.of(endpoint("a", 3), endpoint("b", 1), TestRequest.ramping("d", 2, Ramps.T0)),
                LoadCounts.NONE);

    // At 1 s: 3000 : 1000 : 200, i.e. 15:5:1.
    clock.at(Ramps.at(1));
    assertThat(counts(picker, ANY, 210)).isEqualTo(Map.of("a", 150, "b", 50, "d", 10));
    // At 5 s: 3000 : 1000 : 1000, i.e. 3:1:1.
    clock.at(Ramps.at(5));
    assertThat(counts(picker, ANY, 50)).isEqualTo(Map.of("a", 30, "b", 10, "d", 10));
    // At 10 s and after: its full weight, 3:1:2.
    clock.at(Ramps.at(10));
    assertThat(counts(picker, ANY, 60)).isEqualTo(Map.of("a", 30, "b", 10, "d", 20));
  }

  @Test
  void afterTheRampItIsNginxsSequenceAgain() {
    ManualClock clock = new ManualClock(Ramps.at(4));
    List<Endpoint> endpoints =
        List.of(endpoint("a", 5), endpoint("b", 1), TestRequest.ramping("c", 1, Ramps.T0));
    Picker picker =
        new WeightedRoundRobinStrategy(Ramps.linear(clock)).picker(endpoints, LoadCounts.NONE);
    // 5000 : 1000 : 400, i.e. 25:5:2: 32 picks, a whole period.
    assertThat(counts(picker, ANY, 32)).isEqualTo(Map.of("a", 25, "b", 5, "c", 2));

    clock.at(Ramps.at(10));

    // 32 picks were taken: the new period of 7 goes on at position 32 mod 7 = 4.
    List<String> cycle = List.of("a", "a", "b", "a", "c", "a", "a");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 14; i++) {
      expected.add(cycle.get((4 + i) % 7));
    }
    assertThat(picks(picker, ANY, 14)).isEqualTo(expected);
  }

  @Test
  void rampedWeightsTooLongToPrecomputeKeepExactProportions() {
    ManualClock clock = new ManualClock(Ramps.at(3.3));
    Picker picker =
        new WeightedRoundRobinStrategy(Ramps.linear(clock))
            .picker(
                List.of(endpoint("a", 7001), TestRequest.ramping("b", 3001, Ramps.T0)),
                LoadCounts.NONE);

    // 7001 × 1000 : 3001 × 330 = 7 001 000 : 990 330, gcd 10: a period of 799 133 picks, too
    // long to precompute, so the stride schedule; still exact over the period.
    assertThat(counts(picker, ANY, 799_133)).isEqualTo(Map.of("a", 700_100, "b", 99_033));
  }
}
