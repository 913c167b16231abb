package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.ANY;
import static io.teller.balancer.strategy.TestRequest.endpoint;
import static io.teller.balancer.strategy.TestRequest.endpoints;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What every strategy's picker does the same way. */
class StrategyContractTest {

  static Stream<String> names() {
    return Strategies.NAMES.stream();
  }

  private static Strategy strategy(String name) {
    return Strategies.byName(name, StrategyOptions.DEFAULT, new Random(17));
  }

  private static final List<Endpoint> ABCD = endpoints("a", "b", "c", "d");

  @ParameterizedTest
  @MethodSource("names")
  void anEmptySnapshotGivesNull(String name) {
    Picker picker = strategy(name).picker(List.of(), LoadCounts.NONE);

    assertThat(picker.pick(ANY)).isNull();
    assertThat(picker.pick(ANY.sticky("a"))).isNull();
  }

  @ParameterizedTest
  @MethodSource("names")
  void everyEndpointExcludedGivesNull(String name) {
    Picker picker = strategy(name).picker(ABCD, LoadCounts.NONE);

    assertThat(picker.pick(ANY.excluding("a", "b", "c", "d"))).isNull();
    assertThat(picker.pick(ANY.excluding("a", "b", "c", "d", "z"))).isNull();
    assertThat(picker.pick(ANY.excluding("a", "b", "c", "d").sticky("b"))).isNull();
  }

  @ParameterizedTest
  @MethodSource("names")
  void neverPicksAnExcludedEndpointWhileAnotherIsLeft(String name) {
    Picker picker = strategy(name).picker(ABCD, TestRequest.loads("a", 0, "b", 1, "c", 2));
    Random random = new Random(3);

    for (int i = 0; i < 2_000; i++) {
      Set<String> excluded = new HashSet<>();
      for (String id : List.of("a", "b", "c", "d")) {
        if (random.nextInt(3) == 0) {
          excluded.add(id);
        }
      }
      excluded.add("elsewhere"); // ids of other snapshots do not count
      TestRequest request =
          TestRequest.from("10.1.0." + random.nextInt(256))
              .excluding(excluded.toArray(new String[0]));
      Endpoint picked = picker.pick(request);

      if (excluded.containsAll(List.of("a", "b", "c", "d"))) {
        assertThat(picked).isNull();
      } else {
        assertThat(picked).isNotNull();
        assertThat(excluded).doesNotContain(picked.id());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("names")
  void honoursTheStickyEndpointFirst(String name) {
    // d is the most loaded: no strategy would pick it every time on its own.
    Picker picker = strategy(name).picker(ABCD, TestRequest.loads("d", 50));

    for (int i = 0; i < 100; i++) {
      assertThat(picker.pick(TestRequest.from("10.2.0." + i).sticky("d")).id()).isEqualTo("d");
    }
  }

  @ParameterizedTest
  @MethodSource("names")
  void ignoresAStickyEndpointThatIsExcludedOrGone(String name) {
    Picker picker = strategy(name).picker(ABCD, LoadCounts.NONE);

    for (int i = 0; i < 100; i++) {
      Endpoint excluded = picker.pick(TestRequest.from("10.3.0." + i).sticky("d").excluding("d"));
      assertThat(excluded.id()).isNotEqualTo("d");
      assertThat(picker.pick(TestRequest.from("10.3.0." + i).sticky("gone"))).isNotNull();
    }
  }

  @ParameterizedTest
  @MethodSource("names")
  void rejectsDuplicateIds(String name) {
    List<Endpoint> duplicate = List.of(endpoint("a", 1), endpoint("b", 1), endpoint("a", 2));

    assertThatThrownBy(() -> strategy(name).picker(duplicate, LoadCounts.NONE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("a");
  }

  @ParameterizedTest
  @MethodSource("names")
  void copiesTheSnapshot(String name) {
    List<Endpoint> snapshot = new ArrayList<>(endpoints("a"));
    Picker picker = strategy(name).picker(snapshot, LoadCounts.NONE);
    snapshot.set(0, endpoint("z", 1));
    snapshot.add(endpoint("y", 1));

    assertThat(picker.pick(ANY).id()).isEqualTo("a");
  }

  @Test
  void endpointsAreValidated() {
    assertThatThrownBy(() -> new Endpoint("a", "h", 8080, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("weight");
    assertThatThrownBy(() -> new Endpoint("a", "h", 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port");
    assertThatThrownBy(() -> new Endpoint("a", "h", 65_536, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port");
    assertThatThrownBy(() -> new Endpoint(" ", "h", 8080, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id");
    assertThatThrownBy(() -> new Endpoint("a", "", 8080, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host");
    assertThatThrownBy(() -> new Endpoint(null, "h", 8080, 1))
        .isInstanceOf(NullPointerException.class);
  }

  // Slow start, the same way for every strategy: d became eligible at Ramps.T0.

  private static Strategy ramped(String name, ManualClock clock) {
    return Strategies.byName(name, StrategyOptions.DEFAULT, new Random(17), Ramps.linear(clock));
  }

  /** d's share of {@code picks} picks from clients spread over many addresses, with no load. */
  private static double newcomersShare(Picker picker, int picks) {
    int d = 0;
    for (int i = 0; i < picks; i++) {
      if (picker
          .pick(TestRequest.from("10.4." + (i >> 8 & 0xff) + "." + (i & 0xff)))
          .id()
          .equals("d")) {
        d++;
      }
    }
    return (double) d / picks;
  }

  @ParameterizedTest
  @MethodSource("names")
  void aNewcomerGetsLessThanAThirdOfAFairShareInTheFirstFifthAndAFairShareAtTheEnd(String name) {
    ManualClock clock = new ManualClock(Ramps.at(2));
    Picker picker = ramped(name, clock).picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    assertThat(newcomersShare(picker, 20_000)).isLessThan(0.25 / 3);
    clock.at(Ramps.at(10));
    assertThat(newcomersShare(picker, 20_000)).isCloseTo(0.25, within(0.025));
  }

  @ParameterizedTest
  @MethodSource("names")
  void aRampDoesNotChangeExclusionsOrStickiness(String name) {
    ManualClock clock = new ManualClock(Ramps.at(1));
    Picker picker = ramped(name, clock).picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    for (int i = 0; i < 200; i++) {
      TestRequest request = TestRequest.from("10.5.0." + i);
      assertThat(picker.pick(request.sticky("d")).id()).isEqualTo("d");
      assertThat(picker.pick(request.excluding("a", "b", "c")).id()).isEqualTo("d");
      assertThat(picker.pick(request.excluding("d")).id()).isNotEqualTo("d");
    }
    assertThat(picker.pick(ANY.excluding("a", "b", "c", "d"))).isNull();
  }

  @ParameterizedTest
  @MethodSource("names")
  void withoutARampingEndpointTheRampChangesNothing(String name) {
    ManualClock clock = new ManualClock(Ramps.at(1));
    List<Endpoint> settled = List.of(endpoint("a", 2), endpoint("b", 1), endpoint("c", 3));
    Picker ramped = ramped(name, clock).picker(settled, TestRequest.loads("a", 1, "c", 2));
    Picker plain = strategy(name).picker(settled, TestRequest.loads("a", 1, "c", 2));

    for (int i = 0; i < 500; i++) {
      TestRequest request = TestRequest.from("10.6.1." + (i % 256));
      assertThat(ramped.pick(request).id()).isEqualTo(plain.pick(request).id());
    }
  }
}
