package io.teller.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When an instance became eligible for traffic, the moment a slow start ramps from. */
class InstanceEligibilityTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private static Instance registered(InstanceStatus status, int weight) {
    return new Instance(
        "shop-0123456789",
        "shop",
        "10.0.0.1",
        8080,
        weight,
        Map.of(),
        null,
        status,
        Instance.SOURCE_REST,
        null,
        T0,
        T0,
        T0,
        null,
        1);
  }

  private static Instance withWeight(Instance instance, int weight, Instant now) {
    return new Instance(
        instance.id(),
        instance.service(),
        instance.host(),
        instance.port(),
        weight,
        instance.metadata(),
        instance.ttlSeconds(),
        instance.status(),
        instance.source(),
        instance.member(),
        instance.registeredAt(),
        now,
        instance.lastHeartbeatAt(),
        instance.drainUntil(),
        instance.revision());
  }

  @Test
  void registeredHealthyIsEligibleFromItsRegistration() {
    assertThat(registered(InstanceStatus.HEALTHY, 1).eligibleAt()).isEqualTo(T0);
    assertThat(registered(InstanceStatus.STARTING, 1).eligibleAt()).isNull();
    assertThat(registered(InstanceStatus.HEALTHY, 0).eligibleAt()).isNull();
  }

  @Test
  void passingTheHealthCheckMakesItEligibleThen() {
    Instance starting = registered(InstanceStatus.STARTING, 1);
    Instant passed = T0.plusSeconds(3);

    Instance healthy =
        starting.withStatus(InstanceStatus.HEALTHY, passed).withEligibility(starting);

    assertThat(healthy.eligibleAt()).isEqualTo(passed);
  }

  @Test
  void healthyAgainAfterFailingRestartsTheMoment() {
    Instance healthy = registered(InstanceStatus.HEALTHY, 1);
    Instance unhealthy =
        healthy.withStatus(InstanceStatus.UNHEALTHY, T0.plusSeconds(60)).withEligibility(healthy);
    Instance again =
        unhealthy.withStatus(InstanceStatus.HEALTHY, T0.plusSeconds(90)).withEligibility(unhealthy);

    assertThat(unhealthy.eligibleAt()).isNull();
    assertThat(again.eligibleAt()).isEqualTo(T0.plusSeconds(90));
  }

  @Test
  void changesWhileItTakesTrafficKeepTheMoment() {
    Instance healthy = registered(InstanceStatus.HEALTHY, 1);
    // Rebuilt from scratch, as a registration of the same address does: the moment still holds.
    Instance heavier = withWeight(healthy, 5, T0.plusSeconds(30)).withEligibility(healthy);
    Instance beat = heavier.heartbeat(T0.plusSeconds(40)).withEligibility(heavier);

    assertThat(heavier.eligibleAt()).isEqualTo(T0);
    assertThat(beat.eligibleAt()).isEqualTo(T0);
  }

  @Test
  void aWeightRaisedFromZeroMakesItEligibleThen() {
    Instance idle = registered(InstanceStatus.HEALTHY, 0);

    Instance raised = withWeight(idle, 2, T0.plusSeconds(10)).withEligibility(idle);

    assertThat(raised.eligibleAt()).isEqualTo(T0.plusSeconds(10));
  }

  @Test
  void drainingTakesItAway() {
    Instance healthy = registered(InstanceStatus.HEALTHY, 1);

    Instance draining =
        healthy.draining(T0.plusSeconds(5), T0.plusSeconds(15)).withEligibility(healthy);

    assertThat(draining.eligibleAt()).isNull();
  }

  @Test
  void survivesJson() {
    Instance healthy = registered(InstanceStatus.HEALTHY, 1);

    assertThat(healthy.toJson().getString("eligibleAt")).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(Instance.fromJson(healthy.toJson())).isEqualTo(healthy);
    Instance starting = registered(InstanceStatus.STARTING, 1);
    assertThat(starting.toJson().containsKey("eligibleAt")).isFalse();
    assertThat(Instance.fromJson(starting.toJson())).isEqualTo(starting);
  }
}
