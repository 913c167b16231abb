package io.teller.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SlowStartTest {

  private static final SlowStart LINEAR = new SlowStart(10_000, 1.0, 10);

  @Test
  void linearRampFromTheMinimumToOne() {
    assertThat(LINEAR.factor(0)).isEqualTo(0.1);
    assertThat(LINEAR.factor(500)).isEqualTo(0.1); // 0.05 is below the minimum
    assertThat(LINEAR.factor(1_000)).isEqualTo(0.1);
    assertThat(LINEAR.factor(2_500)).isEqualTo(0.25);
    assertThat(LINEAR.factor(5_000)).isEqualTo(0.5);
    assertThat(LINEAR.factor(9_999)).isEqualTo(0.9999);
    assertThat(LINEAR.factor(10_000)).isEqualTo(1.0);
    assertThat(LINEAR.factor(3_600_000)).isEqualTo(1.0);
  }

  @Test
  void aRampThatStartsLaterIsAtItsMinimum() {
    assertThat(LINEAR.factor(-1)).isEqualTo(0.1);
    assertThat(LINEAR.factor(Long.MIN_VALUE)).isEqualTo(0.1);
  }

  @Test
  void aggressionAboveOneClimbsFastThenFlattens() {
    SlowStart squareRoot = new SlowStart(10_000, 2.0, 10);

    assertThat(squareRoot.factor(2_500)).isCloseTo(0.5, within(1e-12));
    assertThat(squareRoot.factor(100)).isCloseTo(0.1, within(1e-12));
    assertThat(squareRoot.factor(40)).isEqualTo(0.1); // sqrt(0.004) = 0.063: the minimum
    assertThat(squareRoot.factor(6_400)).isCloseTo(0.8, within(1e-12));
  }

  @Test
  void aggressionBelowOneStartsSlowly() {
    SlowStart square = new SlowStart(10_000, 0.5, 1);

    assertThat(square.factor(5_000)).isCloseTo(0.25, within(1e-12));
    assertThat(square.factor(8_000)).isCloseTo(0.64, within(1e-12));
    assertThat(square.factor(500)).isCloseTo(0.01, within(1e-12)); // 0.0025, the 1% minimum
  }

  @Test
  void aMinimumOfAHundredPercentTurnsTheRampOff() {
    assertThat(new SlowStart(10_000, 1.0, 100).factor(0)).isEqualTo(1.0);
  }

  @Test
  void anInstanceIsEasedOnlyAWindowOrMoreAfterTheServicesFirst() {
    assertThat(LINEAR.eases(20_000, 10_000)).isTrue();
    assertThat(LINEAR.eases(19_999, 10_000)).isFalse();
    assertThat(LINEAR.eases(10_000, 10_000)).isFalse(); // the first instance itself
    assertThat(LINEAR.eases(1_700_000_000_000L, 0)).isTrue(); // the first one's time unknown
  }

  @Test
  void factorsOfAServiceFollowTheColdStartRule() {
    long t = 1_700_000_000_000L;
    List<Instance> instances =
        List.of(
            instance("old", InstanceStatus.HEALTHY, t),
            instance("cold", InstanceStatus.HEALTHY, t + 9_000), // within a window of "old"
            instance("new", InstanceStatus.HEALTHY, t + 60_000),
            instance("starting", InstanceStatus.STARTING, t + 61_000));

    Map<String, Double> factors = SlowStart.factors(LINEAR, instances, t + 62_500);

    assertThat(factors).isEqualTo(Map.of("old", 1.0, "cold", 1.0, "new", 0.25));
    assertThat(SlowStart.factors(null, instances, t + 62_500))
        .isEqualTo(Map.of("old", 1.0, "cold", 1.0, "new", 1.0));
  }

  @Test
  void whenEveryInstanceIsNewNoneIsEased() {
    long t = 1_700_000_000_000L;
    List<Instance> instances =
        List.of(
            instance("a", InstanceStatus.HEALTHY, t),
            instance("b", InstanceStatus.HEALTHY, t + 4_000),
            instance("c", InstanceStatus.HEALTHY, t + 8_000));

    assertThat(SlowStart.factors(LINEAR, instances, t + 9_000))
        .isEqualTo(Map.of("a", 1.0, "b", 1.0, "c", 1.0));
  }

  @Test
  void readsWithDefaultsAndWritesBack() {
    Service service =
        Service.fromJson(new JsonObject("{\"slowStart\": {\"windowMs\": 10000}}"), "shop");

    assertThat(service.slowStart()).isEqualTo(new SlowStart(10_000, 1.0, 10));
    assertThat(Service.fromStored(service.toJson())).isEqualTo(service);
    assertThat(Service.fromJson(new JsonObject("{\"slowStart\": {}}"), "shop").slowStart())
        .isEqualTo(new SlowStart(30_000, 1.0, 10));
    assertThat(Service.fromJson(new JsonObject(), "shop").slowStart()).isNull();
    assertThat(Service.fromJson(new JsonObject(), "shop").toJson().containsKey("slowStart"))
        .isFalse();
    assertThat(
            Service.fromJson(
                    new JsonObject(
                        "{\"slowStart\": {\"windowMs\": 5000, \"aggression\": 2.5,"
                            + " \"minWeightPercent\": 20}}"),
                    "shop")
                .slowStart())
        .isEqualTo(new SlowStart(5_000, 2.5, 20));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"windowMs\": 999}            | slowStart.windowMs",
        "{\"windowMs\": 3600001}        | slowStart.windowMs",
        "{\"windowMs\": 1.5}            | slowStart.windowMs",
        "{\"aggression\": 0}            | slowStart.aggression",
        "{\"aggression\": 10.5}         | slowStart.aggression",
        "{\"aggression\": \"fast\"}     | slowStart.aggression",
        "{\"minWeightPercent\": 0}      | slowStart.minWeightPercent",
        "{\"minWeightPercent\": 101}    | slowStart.minWeightPercent",
        "{\"window\": 1000}             | slowStart.window",
        "5                              | slowStart",
      })
  void badSettingsNameTheirField(String slowStart, String field) {
    JsonObject json = new JsonObject("{\"slowStart\": " + slowStart + "}");

    assertThatThrownBy(() -> Service.fromJson(json, "shop"))
        .isInstanceOfSatisfying(
            ValidationException.class, e -> assertThat(e.field()).isEqualTo(field));
  }

  @Test
  void settingsBuiltInCodeAreCheckedToo() {
    assertThatThrownBy(() -> new SlowStart(0, 1, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SlowStart(1_000, Double.NaN, 10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SlowStart(1_000, 1, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static Instance instance(String id, InstanceStatus status, long eligibleMillis) {
    Instant at = Instant.ofEpochMilli(eligibleMillis);
    return new Instance(
        id,
        "shop",
        "10.0.0.1",
        8080,
        1,
        Map.of(),
        null,
        status,
        Instance.SOURCE_REST,
        null,
        at,
        at,
        at,
        null,
        0);
  }
}
