package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.ANY;
import static io.teller.balancer.strategy.TestRequest.counts;
import static io.teller.balancer.strategy.TestRequest.endpoints;
import static io.teller.balancer.strategy.TestRequest.picks;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoundRobinStrategyTest {

  private static final List<Endpoint> ABC = endpoints("a", "b", "c");

  @Test
  void rotatesFromTheSeededOffsetAndWraps() {
    // new Random(3).nextInt(3) == 2: the rotation starts at c.
    Picker picker = new RoundRobinStrategy(new Random(3)).picker(ABC, LoadCounts.NONE);

    assertThat(picks(picker, ANY, 8)).containsExactly("c", "a", "b", "c", "a", "b", "c", "a");
  }

  @Test
  void takesTheOffsetFromTheInjectedRandom() {
    // new Random(2).nextInt(3) == 1, new Random(0).nextInt(3) == 0.
    assertThat(picks(new RoundRobinStrategy(new Random(2)).picker(ABC, LoadCounts.NONE), ANY, 4))
        .containsExactly("b", "c", "a", "b");
    assertThat(picks(new RoundRobinStrategy(new Random(0)).picker(ABC, LoadCounts.NONE), ANY, 4))
        .containsExactly("a", "b", "c", "a");
  }

  @Test
  void manyBalancersDoNotAllStartAtTheFirstEndpoint() {
    Random seeds = new Random(42);
    Set<String> firsts = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      Strategy strategy = new RoundRobinStrategy(new Random(seeds.nextLong()));
      firsts.add(strategy.picker(ABC, LoadCounts.NONE).pick(ANY).id());
    }
    assertThat(firsts).containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void eachNewPickerDrawsItsOwnOffsetAndKeepsItsOwnRotation() {
    // new Random(5) draws 2, then 1.
    Strategy strategy = new RoundRobinStrategy(new Random(5));
    Picker first = strategy.picker(ABC, LoadCounts.NONE);
    Picker second = strategy.picker(ABC, LoadCounts.NONE);

    assertThat(picks(first, ANY, 2)).containsExactly("c", "a");
    assertThat(picks(second, ANY, 2)).containsExactly("b", "c");
    assertThat(picks(first, ANY, 2)).containsExactly("b", "c");
  }

  @Test
  void skipsExcludedEndpointsWithoutMovingTheRotation() {
    Picker picker = new RoundRobinStrategy(new Random(0)).picker(ABC, LoadCounts.NONE);
    TestRequest retry = ANY.excluding("b");

    assertThat(picker.pick(ANY).id()).isEqualTo("a");
    assertThat(picker.pick(retry).id()).isEqualTo("c"); // b's turn, b excluded
    assertThat(picker.pick(ANY).id()).isEqualTo("c"); // the rotation goes on from c
    assertThat(picker.pick(ANY).id()).isEqualTo("a");
    assertThat(picks(picker, ANY.excluding("a", "c"), 3)).containsExactly("b", "b", "b");
    assertThat(picker.pick(ANY.excluding("a", "b", "c"))).isNull();
  }

  @Test
  void ignoresWeights() {
    List<Endpoint> weighted = List.of(TestRequest.endpoint("a", 5), TestRequest.endpoint("b", 1));
    Picker picker = new RoundRobinStrategy(new Random(0)).picker(weighted, LoadCounts.NONE);

    assertThat(TestRequest.counts(picker, ANY, 100)).isEqualTo(Map.of("a", 50, "b", 50));
  }

  @Test
  void concurrentPicksKeepTheRotationExact() throws InterruptedException {
    Picker picker =
        new RoundRobinStrategy(new Random(1))
            .picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE);

    Map<String, Long> counts = Concurrently.pick(picker, 4, 25_000);

    assertThat(counts).isEqualTo(Map.of("a", 25_000L, "b", 25_000L, "c", 25_000L, "d", 25_000L));
  }

  // Slow start: d became eligible at T0 and ramps linearly over 10 s from 10%.

  @Test
  void aNewcomerGetsItsFactorOfAShareAtEachMomentOfTheRamp() {
    ManualClock clock = new ManualClock(Ramps.T0);
    Picker picker =
        new RoundRobinStrategy(new Random(3), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    // At 1 s: effective weights 1000, 1000, 1000, 100, i.e. 10:10:10:1, exact over 31 picks.
    clock.at(Ramps.at(1));
    assertThat(counts(picker, ANY, 310)).isEqualTo(Map.of("a", 100, "b", 100, "c", 100, "d", 10));
    // At 2 s (a fifth of the window): 5:5:5:1.
    clock.at(Ramps.at(2));
    assertThat(counts(picker, ANY, 160)).isEqualTo(Map.of("a", 50, "b", 50, "c", 50, "d", 10));
    // At 5 s: 2:2:2:1.
    clock.at(Ramps.at(5));
    assertThat(counts(picker, ANY, 70)).isEqualTo(Map.of("a", 20, "b", 20, "c", 20, "d", 10));
    // At 10 s the ramp is over: a strict rotation again.
    clock.at(Ramps.at(10));
    List<String> rotation = picks(picker, ANY, 8);
    assertThat(rotation.subList(4, 8)).isEqualTo(rotation.subList(0, 4));
    assertThat(new HashSet<>(rotation.subList(0, 4))).containsExactlyInAnyOrder("a", "b", "c", "d");
  }

  @Test
  void rampsAreSmoothNotInRuns() {
    ManualClock clock = new ManualClock(Ramps.at(5));
    Picker picker =
        new RoundRobinStrategy(new Random(3), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    // 2:2:2:1 as nginx interleaves it: a b c d a b c, never the same endpoint twice in a row.
    List<String> picks = picks(picker, ANY, 70);
    for (int i = 1; i < picks.size(); i++) {
      assertThat(picks.get(i)).isNotEqualTo(picks.get(i - 1));
    }
  }

  @Test
  void concurrentPicksKeepTheRampedProportionsExact() throws InterruptedException {
    ManualClock clock = new ManualClock(Ramps.at(5));
    Picker picker =
        new RoundRobinStrategy(new Random(3), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    // 4 × 17 500 = 70 000 picks = 10 000 periods of 7.
    assertThat(Concurrently.pick(picker, 4, 17_500))
        .isEqualTo(Map.of("a", 20_000L, "b", 20_000L, "c", 20_000L, "d", 10_000L));
  }

  @Test
  void aRampOverBeforeThePickerIsBuiltLeavesTheStrictRotation() {
    ManualClock clock = new ManualClock(Ramps.at(12));
    Picker ramped =
        new RoundRobinStrategy(new Random(3), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);
    Picker plain =
        new RoundRobinStrategy(new Random(3)).picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    assertThat(picks(ramped, ANY, 12)).isEqualTo(picks(plain, ANY, 12));
  }
}
