package io.teller.balancer.strategy;

import static io.teller.balancer.strategy.TestRequest.endpoint;
import static io.teller.balancer.strategy.TestRequest.endpoints;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConsistentHashStrategyTest {

  private static final Strategy BY_ADDRESS = new ConsistentHashStrategy(StrategyOptions.DEFAULT);

  /** {@code count} distinct random IPv4 addresses, the same for a seed. */
  private static List<String> addresses(long seed, int count) {
    Random random = new Random(seed);
    Set<String> addresses = new LinkedHashSet<>();
    while (addresses.size() < count) {
      int ip = random.nextInt();
      addresses.add(
          (ip >>> 24) + "." + (ip >>> 16 & 0xff) + "." + (ip >>> 8 & 0xff) + "." + (ip & 0xff));
    }
    return List.copyOf(addresses);
  }

  /** The endpoint id each address maps to. */
  private static Map<String, String> mapping(Picker picker, List<String> addresses) {
    Map<String, String> mapping = new HashMap<>();
    for (String address : addresses) {
      mapping.put(address, picker.pick(TestRequest.from(address)).id());
    }
    return mapping;
  }

  private static Map<String, Integer> tally(Map<String, String> mapping) {
    Map<String, Integer> tally = new HashMap<>();
    mapping.values().forEach(id -> tally.merge(id, 1, Integer::sum));
    return tally;
  }

  @Test
  void hashIsMurmur3() {
    // Reference values: Guava's Hashing.murmur3_128().hashString(s, UTF_8).asLong().
    assertThat(Murmur3.hash64("")).isEqualTo(0x0000000000000000L);
    assertThat(Murmur3.hash64("a")).isEqualTo(0x85555565f6597889L);
    assertThat(Murmur3.hash64("hello")).isEqualTo(0xcbd8a7b341bd9b02L);
    assertThat(Murmur3.hash64("10.0.0.1")).isEqualTo(0x85af96b9d83bce29L);
    assertThat(Murmur3.hash64("The quick brown fox jumps over the lazy dog"))
        .isEqualTo(0xe34bbc7bbc071b6cL);
    assertThat(Murmur3.hash64("é中")).isEqualTo(0xf5012ddbd5d05028L);
  }

  @Test
  void theSameKeyGoesToTheSameEndpointWhateverPickerOrSnapshotOrder() {
    List<Endpoint> endpoints = endpoints("a", "b", "c", "d", "e");
    List<Endpoint> shuffled = new ArrayList<>(endpoints);
    Collections.shuffle(shuffled, new Random(1));
    List<String> addresses = addresses(1, 2_000);

    Map<String, String> first = mapping(BY_ADDRESS.picker(endpoints, LoadCounts.NONE), addresses);
    Picker other =
        new ConsistentHashStrategy(StrategyOptions.DEFAULT).picker(shuffled, LoadCounts.NONE);

    assertThat(mapping(other, addresses)).isEqualTo(first);
    assertThat(mapping(other, addresses)).isEqualTo(first);
  }

  @Test
  void removingAnEndpointRemapsOnlyTheKeysThatWereOnIt() {
    List<String> addresses = addresses(2, 10_000);
    Map<String, String> before =
        mapping(BY_ADDRESS.picker(endpoints("a", "b", "c", "d", "e"), LoadCounts.NONE), addresses);
    Map<String, String> after =
        mapping(BY_ADDRESS.picker(endpoints("a", "b", "d", "e"), LoadCounts.NONE), addresses);

    int moved = 0;
    for (String address : addresses) {
      if (before.get(address).equals("c")) {
        assertThat(after.get(address)).isNotEqualTo("c");
        moved++;
      } else {
        assertThat(after.get(address)).as(address).isEqualTo(before.get(address));
      }
    }
    assertThat(moved).isEqualTo(tally(before).get("c")).isBetween(1_800, 2_200);
  }

  @Test
  void addingAnEndpointMovesKeysOnlyToIt() {
    List<String> addresses = addresses(3, 10_000);
    Map<String, String> before =
        mapping(BY_ADDRESS.picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE), addresses);
    Map<String, String> after =
        mapping(BY_ADDRESS.picker(endpoints("a", "b", "c", "d", "e"), LoadCounts.NONE), addresses);

    for (String address : addresses) {
      if (!after.get(address).equals("e")) {
        assertThat(after.get(address)).as(address).isEqualTo(before.get(address));
      }
    }
    assertThat(tally(after).get("e")).isBetween(1_800, 2_200);
  }

  @Test
  void raisingAWeightMovesKeysOnlyToThatEndpoint() {
    List<String> addresses = addresses(4, 10_000);
    Map<String, String> before =
        mapping(
            BY_ADDRESS.picker(
                List.of(endpoint("a", 1), endpoint("b", 1), endpoint("c", 1)), LoadCounts.NONE),
            addresses);
    Map<String, String> after =
        mapping(
            BY_ADDRESS.picker(
                List.of(endpoint("a", 2), endpoint("b", 1), endpoint("c", 1)), LoadCounts.NONE),
            addresses);

    for (String address : addresses) {
      if (!after.get(address).equals(before.get(address))) {
        assertThat(after.get(address)).isEqualTo("a");
      }
    }
  }

  @Test
  void spreadsKeysEvenlyWithinTenPercent() {
    Map<String, Integer> tally =
        tally(
            mapping(
                BY_ADDRESS.picker(endpoints("a", "b", "c"), LoadCounts.NONE),
                addresses(5, 30_000)));

    assertThat(tally).containsOnlyKeys("a", "b", "c");
    assertThat(tally.values()).allSatisfy(count -> assertThat(count).isBetween(9_000, 11_000));
  }

  @Test
  void spreadsKeysEvenlyWhateverTheIds() {
    // The share of each endpoint depends on where its ids hash: check many sets of ids, not one
    // lucky set. (With 100 points per endpoint about half of such sets miss the 10%.)
    List<String> addresses = addresses(12, 30_000);
    for (int set = 0; set < 20; set++) {
      String prefix = "backend-" + set + "-";
      Picker picker =
          BY_ADDRESS.picker(endpoints(prefix + "a", prefix + "b", prefix + "c"), LoadCounts.NONE);

      assertThat(tally(mapping(picker, addresses)).values())
          .as("ids %s{a,b,c}", prefix)
          .allSatisfy(count -> assertThat(count).isBetween(9_000, 11_000));
    }
  }

  @Test
  void spreadsKeysInProportionToWeight() {
    List<Endpoint> endpoints = List.of(endpoint("a", 1), endpoint("b", 2), endpoint("c", 3));
    Map<String, Integer> tally =
        tally(mapping(BY_ADDRESS.picker(endpoints, LoadCounts.NONE), addresses(6, 60_000)));

    assertThat(tally.get("a")).isBetween(9_000, 11_000);
    assertThat(tally.get("b")).isBetween(18_000, 22_000);
    assertThat(tally.get("c")).isBetween(27_000, 33_000);
  }

  @Test
  void hashesAHeaderWhenConfigured() {
    Picker picker =
        new ConsistentHashStrategy(new StrategyOptions("header:X-User"))
            .picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE);

    // The header decides, whatever the client address; header names are case-insensitive.
    String alice = picker.pick(TestRequest.from("10.0.0.1").header("x-user", "alice")).id();
    for (String address : addresses(7, 200)) {
      assertThat(picker.pick(TestRequest.from(address).header("X-User", "alice")).id())
          .isEqualTo(alice);
    }
    // Different users spread over the endpoints.
    Map<String, Integer> tally = new HashMap<>();
    for (int user = 0; user < 2_000; user++) {
      String id = picker.pick(TestRequest.from("10.0.0.1").header("X-User", "user-" + user)).id();
      tally.merge(id, 1, Integer::sum);
    }
    assertThat(tally).containsOnlyKeys("a", "b", "c", "d");
  }

  @Test
  void hashesACookieWhenConfigured() {
    Picker picker =
        new ConsistentHashStrategy(new StrategyOptions("cookie:session"))
            .picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE);

    String first = picker.pick(TestRequest.from("10.0.0.1").cookie("session", "s-42")).id();
    for (String address : addresses(8, 200)) {
      assertThat(picker.pick(TestRequest.from(address).cookie("session", "s-42")).id())
          .isEqualTo(first);
    }
    // The key is the cookie's value alone: the same as hashing that text as an address.
    assertThat(first)
        .isEqualTo(
            BY_ADDRESS
                .picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE)
                .pick(TestRequest.from("s-42"))
                .id());
  }

  @Test
  void aMissingHeaderOrCookieFallsBackToTheClientAddress() {
    List<Endpoint> endpoints = endpoints("a", "b", "c", "d");
    Picker byAddress = BY_ADDRESS.picker(endpoints, LoadCounts.NONE);
    Picker byHeader =
        new ConsistentHashStrategy(new StrategyOptions("header:X-User"))
            .picker(endpoints, LoadCounts.NONE);
    Picker byCookie =
        new ConsistentHashStrategy(new StrategyOptions("cookie:session"))
            .picker(endpoints, LoadCounts.NONE);

    for (String address : addresses(9, 500)) {
      TestRequest request = TestRequest.from(address).cookie("other", "x").header("X-Other", "y");
      String expected = byAddress.pick(request).id();
      assertThat(byHeader.pick(request).id()).isEqualTo(expected);
      assertThat(byCookie.pick(request).id()).isEqualTo(expected);
    }
  }

  @Test
  void anExcludedEndpointIsSkippedAsIfItWereGone() {
    List<String> addresses = addresses(10, 3_000);
    Picker full = BY_ADDRESS.picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE);
    Picker withoutB = BY_ADDRESS.picker(endpoints("a", "c", "d"), LoadCounts.NONE);
    Picker withoutBd = BY_ADDRESS.picker(endpoints("a", "c"), LoadCounts.NONE);

    for (String address : addresses) {
      TestRequest request = TestRequest.from(address);
      assertThat(full.pick(request.excluding("b")).id()).isEqualTo(withoutB.pick(request).id());
      assertThat(full.pick(request.excluding("b", "d")).id())
          .isEqualTo(withoutBd.pick(request).id());
    }
    assertThat(full.pick(TestRequest.from("10.0.0.1").excluding("a", "b", "c", "d"))).isNull();
  }

  @Test
  void bigRingsAreScaledDownInProportion() {
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      endpoints.add(endpoint("e" + i, 1 + i % 2));
    }
    long[] counts = ConsistentHashStrategy.pointCounts(endpoints);

    // 225 units of weight × 1000 points > MAX_POINTS: 100 000 / 225 = 444 points per unit.
    assertThat(counts[0]).isEqualTo(444);
    assertThat(counts[1]).isEqualTo(888);
    assertThat(Arrays.stream(counts).sum()).isLessThanOrEqualTo(ConsistentHashStrategy.MAX_POINTS);
    assertThat(ConsistentHashStrategy.pointCounts(endpoints("a", "b"))).containsExactly(1000, 1000);

    Picker picker = BY_ADDRESS.picker(endpoints, LoadCounts.NONE);
    assertThat(tally(mapping(picker, addresses(11, 30_000)))).hasSize(150);
  }

  // Slow start: d became eligible at Ramps.T0 and ramps linearly over 10 s from 10%.

  @Test
  void aNewcomerTakesOnlyKeysItWillOwnAsItsFactorPassesTheirDraw() {
    ManualClock clock = new ManualClock(Ramps.T0);
    List<String> addresses = addresses(13, 20_000);
    Map<String, String> without =
        mapping(BY_ADDRESS.picker(endpoints("a", "b", "c"), LoadCounts.NONE), addresses);
    Map<String, String> full =
        mapping(BY_ADDRESS.picker(endpoints("a", "b", "c", "d"), LoadCounts.NONE), addresses);
    Picker ramped =
        new ConsistentHashStrategy(StrategyOptions.DEFAULT, Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    int owned = tally(full).get("d");
    for (double seconds : new double[] {1, 2, 5, 8}) {
      clock.at(Ramps.at(seconds));
      double factor = Ramps.TEN_SECONDS.factor(Ramps.at(seconds) - Ramps.T0);
      Map<String, String> now = mapping(ramped, addresses);
      int onD = 0;
      for (String address : addresses) {
        long draw = ConsistentHashStrategy.admissionDraw(Murmur3.hash64(address));
        boolean admitted = full.get(address).equals("d") && draw < factor * (1L << 53);
        // Exactly: d's keys whose draw is below the factor; every other key where it was.
        assertThat(now.get(address)).as(address).isEqualTo(admitted ? "d" : without.get(address));
        onD += admitted ? 1 : 0;
      }
      assertThat(onD).isEqualTo(tally(now).getOrDefault("d", 0));
      assertThat((double) onD / owned).as("at %s s", seconds).isCloseTo(factor, within(0.03));
    }
    clock.at(Ramps.at(10));
    assertThat(mapping(ramped, addresses)).isEqualTo(full);
  }

  @Test
  void aKeyMovesToTheNewcomerOnceAndStays() {
    ManualClock clock = new ManualClock(Ramps.T0);
    List<String> addresses = addresses(14, 10_000);
    Picker ramped =
        new ConsistentHashStrategy(StrategyOptions.DEFAULT, Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);

    Map<String, String> before = mapping(ramped, addresses);
    for (int tenth = 2; tenth <= 10; tenth++) {
      clock.at(Ramps.at(tenth));
      Map<String, String> after = mapping(ramped, addresses);
      for (String address : addresses) {
        if (!after.get(address).equals(before.get(address))) {
          assertThat(after.get(address)).as(address).isEqualTo("d");
        }
      }
      before = after;
    }
  }

  @Test
  void exclusionsAndTheRampWalkTheRingTogether() {
    ManualClock clock = new ManualClock(Ramps.at(5));
    List<String> addresses = addresses(15, 3_000);
    Picker ramped =
        new ConsistentHashStrategy(StrategyOptions.DEFAULT, Ramps.linear(clock))
            .picker(Ramps.threeAndANewcomer(), LoadCounts.NONE);
    Picker withoutB =
        new ConsistentHashStrategy(StrategyOptions.DEFAULT, Ramps.linear(clock))
            .picker(
                List.of(endpoint("a", 1), endpoint("c", 1), TestRequest.ramping("d", 1, Ramps.T0)),
                LoadCounts.NONE);

    for (String address : addresses) {
      TestRequest request = TestRequest.from(address);
      assertThat(ramped.pick(request.excluding("b")).id()).isEqualTo(withoutB.pick(request).id());
    }
    // Only d left: it takes every key, whatever its draw.
    assertThat(ramped.pick(TestRequest.from("10.0.0.1").excluding("a", "b", "c")).id())
        .isEqualTo("d");
    assertThat(ramped.pick(TestRequest.from("10.0.0.1").excluding("a", "b", "c", "d"))).isNull();
  }

  @Test
  void keysRefusedByEveryRampingEndpointGoToTheFirstOnTheRing() {
    ManualClock clock = new ManualClock(Ramps.at(1));
    Picker ramped =
        new ConsistentHashStrategy(StrategyOptions.DEFAULT, Ramps.linear(clock))
            .picker(
                List.of(
                    TestRequest.ramping("x", 1, Ramps.T0), TestRequest.ramping("y", 1, Ramps.T0)),
                LoadCounts.NONE);
    Picker plain =
        BY_ADDRESS.picker(
            List.of(TestRequest.ramping("x", 1, Ramps.T0), TestRequest.ramping("y", 1, Ramps.T0)),
            LoadCounts.NONE);

    // Both at 0.1 (after an ejection, say): no key is lost, and each goes where it always went.
    List<String> addresses = addresses(16, 2_000);
    assertThat(mapping(ramped, addresses)).isEqualTo(mapping(plain, addresses));
  }
}
