package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.ANY;
import static io.teller.balancer.strategy.TestRequest.endpoints;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrategiesTest {

  @Test
  void namesEveryStrategy() {
    assertThat(Strategies.NAMES)
        .containsExactly(
            "round-robin",
            "weighted-round-robin",
            "least-connections",
            "random-two-choices",
            "consistent-hash");
  }

  @Test
  void resolvesEachName() {
    Map<String, Class<? extends Strategy>> expected =
        Map.of(
            "round-robin", RoundRobinStrategy.class,
            "weighted-round-robin", WeightedRoundRobinStrategy.class,
            "least-connections", LeastConnectionsStrategy.class,
            "random-two-choices", RandomTwoChoicesStrategy.class,
            "consistent-hash", ConsistentHashStrategy.class);

    for (String name : Strategies.NAMES) {
      Strategy strategy = Strategies.byName(name, StrategyOptions.DEFAULT, new Random(1));
      assertThat(strategy).as(name).isInstanceOf(expected.get(name));
      assertThat(strategy.name()).isEqualTo(name);
    }
  }

  @Test
  void passesTheOptions() {
    Strategy strategy =
        Strategies.byName("consistent-hash", new StrategyOptions("header:X-User"), new Random(1));
    Picker picker = strategy.picker(endpoints("a", "b", "c"), LoadCounts.NONE);

    String id = picker.pick(TestRequest.from("10.0.0.1").header("X-User", "alice")).id();
    for (int i = 2; i < 100; i++) {
      assertThat(picker.pick(TestRequest.from("10.0.0." + i).header("X-User", "alice")).id())
          .isEqualTo(id);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"fastest", "", "Round-Robin", "round_robin", " round-robin"})
  void rejectsAnUnknownNameSayingWhatIsValid(String name) {
    assertThatThrownBy(() -> Strategies.byName(name, StrategyOptions.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + name + "'")
        .hasMessageContaining(
            "round-robin, weighted-round-robin, least-connections, random-two-choices,"
                + " consistent-hash");
  }

  @Test
  void rejectsANullName() {
    assertThatThrownBy(() -> Strategies.byName(null, StrategyOptions.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("null")
        .hasMessageContaining("round-robin");
  }

  @Test
  void theDefaultRandomnessWorksFromManyThreads() throws InterruptedException {
    for (String name : Strategies.NAMES) {
      Picker picker =
          Strategies.byName(name, StrategyOptions.DEFAULT)
              .picker(endpoints("a", "b", "c"), LoadCounts.NONE);

      Map<String, Long> counts = Concurrently.pick(picker, 4, 3_000);

      assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(12_000);
      if (!name.equals("consistent-hash")) { // one client address: one endpoint
        assertThat(counts).as(name).containsOnlyKeys("a", "b", "c");
      }
    }
  }

  @Test
  void roundRobinWithTheDefaultRandomnessIsStillExact() {
    Picker picker =
        Strategies.byName("round-robin", StrategyOptions.DEFAULT)
            .picker(endpoints("a", "b", "c"), LoadCounts.NONE);

    assertThat(TestRequest.counts(picker, ANY, 300))
        .isEqualTo(Map.of("a", 100, "b", 100, "c", 100));
  }
}
