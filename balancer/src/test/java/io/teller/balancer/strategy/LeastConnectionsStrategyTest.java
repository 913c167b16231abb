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
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class LeastConnectionsStrategyTest {

  private static final List<Endpoint> ABC = endpoints("a", "b", "c");

  private final Strategy strategy = new LeastConnectionsStrategy(new SplittableRandom(7));

  @Test
  void picksTheFewestInFlight() {
    Picker picker = strategy.picker(ABC, loads("a", 3, "b", 1, "c", 2));

    assertThat(counts(picker, ANY, 100)).isEqualTo(Map.of("b", 100));
  }

  @Test
  void comparesInFlightPlusOneRelativeToWeight() {
    List<Endpoint> endpoints = List.of(endpoint("a", 4), endpoint("b", 1));

    // (4 + 1) / 4 < (1 + 1) / 1
    assertThat(strategy.picker(endpoints, loads("a", 4, "b", 1)).pick(ANY).id()).isEqualTo("a");
    // idle: 1/4 < 1/1, the heavier endpoint first
    assertThat(strategy.picker(endpoints, LoadCounts.NONE).pick(ANY).id()).isEqualTo("a");
    // (7 + 1) / 4 > (0 + 1) / 1
    assertThat(strategy.picker(endpoints, loads("a", 7, "b", 0)).pick(ANY).id()).isEqualTo("b");
  }

  @Test
  void breaksTiesWithTheInjectedRandom() {
    Picker picker =
        new LeastConnectionsStrategy(new Random(11))
            .picker(endpoints("a", "b"), loads("a", 2, "b", 2));

    // a is the first candidate; b, tied, replaces it when nextInt(2) == 0.
    Random replay = new Random(11);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      expected.add(replay.nextInt(2) == 0 ? "b" : "a");
    }
    List<String> picked = picks(picker, ANY, 1000);
    assertThat(picked).isEqualTo(expected);
    // Both ways, about evenly.
    assertThat(picked).filteredOn("a"::equals).hasSizeBetween(450, 550);
  }

  @Test
  void splitsAThreeWayTieEvenly() {
    Picker picker = new LeastConnectionsStrategy(new Random(5)).picker(ABC, LoadCounts.NONE);

    Map<String, Integer> counts = counts(picker, ANY, 3000);

    assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(900, 1100));
  }

  @Test
  void onlyTiesAmongTheLeastLoadedCount() {
    Picker picker =
        strategy.picker(endpoints("a", "b", "c", "d"), loads("a", 1, "b", 0, "c", 5, "d", 0));

    Map<String, Integer> counts = counts(picker, ANY, 1000);

    assertThat(counts).containsOnlyKeys("b", "d");
  }

  @Test
  void readsTheCountsAtEachPick() {
    Map<String, Long> inFlight = new ConcurrentHashMap<>(Map.of("a", 0L, "b", 1L));
    Picker picker = strategy.picker(endpoints("a", "b"), id -> inFlight.getOrDefault(id, 0L));

    assertThat(picker.pick(ANY).id()).isEqualTo("a");
    inFlight.put("a", 2L);
    assertThat(picker.pick(ANY).id()).isEqualTo("b");
  }

  @Test
  void skipsExcludedEndpoints() {
    Picker picker = strategy.picker(ABC, loads("a", 3, "b", 1, "c", 2));

    assertThat(picker.pick(ANY.excluding("b")).id()).isEqualTo("c");
    assertThat(picker.pick(ANY.excluding("b", "c")).id()).isEqualTo("a");
    assertThat(picker.pick(ANY.excluding("a", "b", "c"))).isNull();
  }

  @Test
  void absurdCountsNeitherOverflowNorWin() {
    Picker picker = strategy.picker(ABC, loads("a", Long.MAX_VALUE, "b", -5, "c", 1));

    // a's count is clamped to Integer.MAX_VALUE, b's to 0.
    assertThat(picker.pick(ANY).id()).isEqualTo("b");
    assertThat(picker.pick(ANY.excluding("b")).id()).isEqualTo("c");
  }

  // Slow start: d became eligible at Ramps.T0 and ramps linearly over 10 s from 10%.

  @Test
  void aNewcomerIsComparedByItsEffectiveWeight() {
    ManualClock clock = new ManualClock(Ramps.T0);
    // a, b and c have 4 in flight: (4 + 1) / 1000 each; d is idle: (0 + 1) / (1000 × factor).
    Picker picker =
        new LeastConnectionsStrategy(new Random(11), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), loads("a", 4, "b", 4, "c", 4, "d", 0));

    // At 1 s, 1/100 > 5/1000: idle as it is, d is the most loaded relative to its weight.
    clock.at(Ramps.at(1));
    assertThat(counts(picker, ANY, 300)).doesNotContainKey("d").containsOnlyKeys("a", "b", "c");
    // At 2 s, 1/200 = 5/1000: a four-way tie.
    clock.at(Ramps.at(2));
    assertThat(counts(picker, ANY, 4000).get("d")).isBetween(900, 1100);
    // At 3 s, 1/300 < 5/1000: d every time.
    clock.at(Ramps.at(3));
    assertThat(counts(picker, ANY, 300)).isEqualTo(Map.of("d", 300));
  }

  @Test
  void aNewcomerTakesLoadInProportionToItsFactor() {
    ManualClock clock = new ManualClock(Ramps.at(5));
    Map<String, Long> inFlight = new ConcurrentHashMap<>();
    Picker picker =
        new LeastConnectionsStrategy(new Random(11), Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), id -> inFlight.getOrDefault(id, 0L));

    // 31 requests arrive and stay: each goes where (inFlight + 1) / effective weight is least.
    for (int i = 0; i < 31; i++) {
      inFlight.merge(picker.pick(ANY).id(), 1L, Long::sum);
    }

    // At factor 0.5: 9 + 1 = 10 per 1000 for a, b, c and 4 + 1 = 5 per 500 for d.
    assertThat(inFlight).isEqualTo(Map.of("a", 9L, "b", 9L, "c", 9L, "d", 4L));
    // Its full weight once the ramp is over: the next five go to d, up to the others.
    clock.at(Ramps.at(10));
    for (int i = 0; i < 5; i++) {
      inFlight.merge(picker.pick(ANY).id(), 1L, Long::sum);
    }
    assertThat(inFlight.get("d")).isEqualTo(9L);
  }
}
