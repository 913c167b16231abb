package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.ANY;
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
}
