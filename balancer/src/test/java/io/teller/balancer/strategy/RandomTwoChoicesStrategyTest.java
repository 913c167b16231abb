package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.ANY;
import static io.teller.balancer.strategy.TestRequest.counts;
import static io.teller.balancer.strategy.TestRequest.endpoint;
import static io.teller.balancer.strategy.TestRequest.endpoints;
import static io.teller.balancer.strategy.TestRequest.loads;
import static io.teller.balancer.strategy.TestRequest.picks;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class RandomTwoChoicesStrategyTest {

  private static final List<Endpoint> ABC = endpoints("a", "b", "c");

  private final Strategy strategy = new RandomTwoChoicesStrategy(new SplittableRandom(3));

  @Test
  void neverPicksTheMostLoadedWhenTheOthersAreLess() {
    Picker picker = strategy.picker(ABC, loads("a", 0, "b", 0, "c", 100));

    Map<String, Integer> counts = counts(picker, ANY, 10_000);

    assertThat(counts).containsOnlyKeys("a", "b");
    assertThat(counts.get("a") + counts.get("b")).isEqualTo(10_000);
    assertThat(counts.get("a")).isBetween(4_500, 5_500);
  }

  @Test
  void theLeastLoadedWinsEveryDrawItIsIn() {
    Picker picker = strategy.picker(ABC, loads("a", 5, "b", 3, "c", 1));

    Map<String, Integer> counts = counts(picker, ANY, 9_000);

    // Pairs {a,b} -> b, {a,c} -> c, {b,c} -> c: c about 2/3, b about 1/3, a never.
    assertThat(counts).containsOnlyKeys("b", "c");
    assertThat(counts.get("c")).isBetween(5_700, 6_300);
  }

  @Test
  void drawsTwoDistinctEndpointsWithTheInjectedRandom() {
    Picker picker = new RandomTwoChoicesStrategy(new Random(9)).picker(ABC, LoadCounts.NONE);

    // Equal loads: the first drawn wins; the second draw is among the two others.
    Random replay = new Random(9);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      expected.add(ABC.get(replay.nextInt(3)).id());
      replay.nextInt(2);
    }
    assertThat(picks(picker, ANY, 100)).isEqualTo(expected);
  }

  @Test
  void weighsTheLoad() {
    List<Endpoint> endpoints = List.of(endpoint("a", 10), endpoint("b", 1));

    // (5 + 1) / 10 < (1 + 1) / 1: with two endpoints both are drawn every time.
    Picker picker = strategy.picker(endpoints, loads("a", 5, "b", 1));

    assertThat(counts(picker, ANY, 100)).isEqualTo(Map.of("a", 100));
  }

  @Test
  void withOneEndpointPicksItWithoutDrawing() {
    RandomGenerator noDraws =
        () -> {
          throw new AssertionError("drew a random number");
        };
    Picker picker = new RandomTwoChoicesStrategy(noDraws).picker(endpoints("a"), loads("a", 1_000));

    assertThat(picker.pick(ANY).id()).isEqualTo("a");
    assertThat(
            new RandomTwoChoicesStrategy(noDraws)
                .picker(ABC, LoadCounts.NONE)
                .pick(ANY.excluding("a", "c"))
                .id())
        .isEqualTo("b");
  }

  @Test
  void drawsAmongTheEndpointsNotExcluded() {
    Picker picker = strategy.picker(ABC, loads("a", 0, "b", 5, "c", 5));

    Map<String, Integer> counts = counts(picker, ANY.excluding("a"), 1_000);

    assertThat(counts.keySet()).containsExactlyInAnyOrder("b", "c");
    assertThat(picker.pick(ANY.excluding("a", "b", "c"))).isNull();
  }

  // Slow start: d became eligible at Ramps.T0 and ramps linearly over 10 s from 10%.

  /**
   * What the draws of {@code new Random(seed)} give when a, b and c have 1 in flight and d none: d
   * wins a draw it is in when {@code dWins}, ties (the first drawn wins) when {@code dTies}.
   */
  private static Map<String, Integer> replay(long seed, int picks, boolean dWins, boolean dTies) {
    List<Endpoint> abcd = Ramps.threeAndANewcomer();
    Random replay = new Random(seed);
    Map<String, Integer> counts = new java.util.HashMap<>();
    for (int i = 0; i < picks; i++) {
      int first = replay.nextInt(4);
      int second = replay.nextInt(3);
      if (second >= first) {
        second++;
      }
      String a = abcd.get(first).id();
      String b = abcd.get(second).id();
      String winner;
      if (!a.equals("d") && !b.equals("d")) {
        winner = a; // equal loads: the first drawn
      } else if (dTies) {
        winner = a;
      } else {
        winner = dWins ? "d" : (a.equals("d") ? b : a);
      }
      counts.merge(winner, 1, Integer::sum);
    }
    return counts;
  }

  @Test
  void aNewcomerIsComparedByItsEffectiveWeight() {
    ManualClock clock = new ManualClock(Ramps.T0);
    LoadCounts loads = loads("a", 1, "b", 1, "c", 1, "d", 0);
    // d against another: (0 + 1) / (1000 × factor) against (1 + 1) / 1000.
    Picker picker =
        new RandomTwoChoicesStrategy(new Random(21), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), loads);

    // At 1 s, 1/100 > 2/1000: d loses every draw it is in, so it gets nothing.
    clock.at(Ramps.at(1));
    Map<String, Integer> early = counts(picker, ANY, 1200);
    assertThat(early).isEqualTo(replay(21, 1200, false, false)).doesNotContainKey("d");
    // At 5 s, 1/500 = 2/1000: a tie, won by the first drawn; d gets about a quarter.
    Picker tied =
        new RandomTwoChoicesStrategy(new Random(22), Ramps.linear(clock.at(Ramps.at(5))))
            .picker(Ramps.threeAndANewcomer(), loads);
    assertThat(counts(tied, ANY, 1200)).isEqualTo(replay(22, 1200, false, true));
    // At 10 s, its full weight: d wins every draw it is in, about half.
    Picker full =
        new RandomTwoChoicesStrategy(new Random(23), Ramps.linear(clock.at(Ramps.at(10))))
            .picker(Ramps.threeAndANewcomer(), loads);
    Map<String, Integer> late = counts(full, ANY, 1200);
    assertThat(late).isEqualTo(replay(23, 1200, true, false));
    assertThat(late.get("d")).isBetween(540, 660);
  }
}
