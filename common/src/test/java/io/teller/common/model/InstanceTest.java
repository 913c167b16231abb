package io.teller.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Registering an address, and registering the same address again. */
class InstanceTest {

  static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  static final Instant T1 = T0.plusSeconds(60);
  static final Instance.Registration REGISTRATION =
      new Instance.Registration("10.0.0.1", 8080, 2, Map.of("zone", "a"), 30);

  static Instance fresh(Instance.Registration registration, Instant at) {
    return Instance.registered(
        "cart", registration, InstanceStatus.HEALTHY, Instance.SOURCE_EVENT_BUS, "m-1", at);
  }

  @Test
  void aNewInstanceHasTheRegistrationsAddressAndOptionsAndItsIdFromTheAddress() {
    Instance instance = fresh(REGISTRATION, T0);
    assertThat(instance.id()).isEqualTo(Instance.idFor("cart", "10.0.0.1", 8080));
    assertThat(instance.weight()).isEqualTo(2);
    assertThat(instance.metadata()).isEqualTo(Map.of("zone", "a"));
    assertThat(instance.ttlSeconds()).isEqualTo(30);
    assertThat(instance.registeredAt()).isEqualTo(T0);
    assertThat(instance.updatedAt()).isEqualTo(T0);
    assertThat(instance.lastHeartbeatAt()).isEqualTo(T0);
    assertThat(instance.drainUntil()).isNull();
    assertThat(instance.revision()).isZero();
  }

  @Test
  void theSameRegistrationAgainIsOnlyAHeartbeat() {
    Instance stored = fresh(REGISTRATION, T0).withRevision(5);
    Instance again = fresh(REGISTRATION, T1);
    assertThat(stored.changedBy(again)).isFalse();
    assertThat(stored.registeredAgain(again))
        .isEqualTo(stored.heartbeat(T1))
        .extracting(Instance::updatedAt, Instance::revision)
        .containsExactly(T0, 5L);
  }

  @Test
  void anotherWeightIsAChangeThatKeepsTheRegistrationTime() {
    Instance stored = fresh(REGISTRATION, T0).withRevision(5);
    Instance heavier =
        fresh(new Instance.Registration("10.0.0.1", 8080, 9, Map.of("zone", "a"), 30), T1);
    assertThat(stored.changedBy(heavier)).isTrue();
    Instance again = stored.registeredAgain(heavier);
    assertThat(again.weight()).isEqualTo(9);
    assertThat(again.registeredAt()).isEqualTo(T0);
    assertThat(again.updatedAt()).isEqualTo(T1);
    assertThat(again.lastHeartbeatAt()).isEqualTo(T1);
  }

  @Test
  void aDrainingInstanceRegisteredAgainComesBack() {
    Instance draining = fresh(REGISTRATION, T0).draining(T0, T0.plusSeconds(10));
    Instance again = fresh(REGISTRATION, T1);
    assertThat(draining.changedBy(again)).isTrue();
    Instance back = draining.registeredAgain(again);
    assertThat(back.status()).isEqualTo(InstanceStatus.HEALTHY);
    assertThat(back.drainUntil()).isNull();
    assertThat(back.updatedAt()).isEqualTo(T1);
  }
}
