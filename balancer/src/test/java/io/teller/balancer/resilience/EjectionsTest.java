package io.teller.balancer.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EjectionsTest {

  @Test
  void aConnectionFailureEjectsAndTheEjectionOutlivesASuccessOnlyInCount() {
    Ejections ejections = new Ejections();
    assertThat(ejections.any()).isFalse();
    assertThat(ejections.failed("a")).isTrue();
    assertThat(ejections.isEjected("a")).isTrue();
    assertThat(ejections.isEjected("b")).isFalse();
    assertThat(ejections.ejectedAmong(Set.of("a", "b"))).containsExactly("a");
    // Failures while ejected (panic-threshold picks) do not eject again.
    assertThat(ejections.failed("a")).isFalse();
  }

  @Test
  void serverErrorsEjectOnlyWhenConsecutive() {
    Ejections ejections = new Ejections(1, 3);
    assertThat(ejections.serverError("a")).isFalse();
    assertThat(ejections.serverError("a")).isFalse();
    ejections.succeeded("a");
    assertThat(ejections.serverError("a")).isFalse();
    assertThat(ejections.serverError("a")).isFalse();
    assertThat(ejections.isEjected("a")).isFalse();
    assertThat(ejections.serverError("a")).isTrue();
    assertThat(ejections.isEjected("a")).isTrue();
  }

  @Test
  void serverErrorsCanBeIgnored() {
    Ejections ejections = new Ejections(1, 0);
    for (int i = 0; i < 100; i++) {
      assertThat(ejections.serverError("a")).isFalse();
    }
    assertThat(ejections.any()).isFalse();
  }

  @Test
  void aSweepForgetsInstancesThatLeft() {
    Ejections ejections = new Ejections();
    ejections.failed("a");
    ejections.failed("b");
    ejections.sweep(Set.of("b"));
    assertThat(ejections.isEjected("a")).isFalse();
    assertThat(ejections.isEjected("b")).isTrue();
  }

  @Test
  void backoffDoublesAndIsCapped() {
    assertThat(Ejections.ejectionMillis(1)).isEqualTo(1_000);
    assertThat(Ejections.ejectionMillis(2)).isEqualTo(2_000);
    assertThat(Ejections.ejectionMillis(4)).isEqualTo(8_000);
    assertThat(Ejections.ejectionMillis(6)).isEqualTo(30_000);
    assertThat(Ejections.ejectionMillis(50)).isEqualTo(30_000);
  }

  @Test
  void excludingLeavesOutTriedAndEjectedButNeverEverything() {
    Ejections ejections = new Ejections();
    Set<String> all = Set.of("a", "b", "c");
    assertThat(ejections.excluding(all, Set.of("a"))).containsExactly("a");
    ejections.failed("b");
    assertThat(ejections.excluding(all, Set.of("a"))).containsExactlyInAnyOrder("a", "b");
    ejections.failed("c");
    // Everything ejected or tried: only the tried ones are left out (panic threshold).
    assertThat(ejections.excluding(all, Set.of("a"))).containsExactly("a");
    assertThat(ejections.excluding(all, Set.of())).containsExactlyInAnyOrder("b", "c");
    ejections.failed("a");
    assertThat(ejections.excluding(all, Set.of())).isEmpty();
  }

  @Test
  void aListenerHearsOfEachEjectionAndUntilWhen() {
    Ejections ejections = new Ejections(1, 2);
    List<String> heard = new ArrayList<>();
    ejections.onEjected(
        (id, untilNanos) -> {
          long left = untilNanos - System.nanoTime();
          // The first ejection lasts 1 s.
          assertThat(left).isBetween(0L, 1_000_000_000L);
          heard.add(id);
        });

    ejections.failed("a");
    ejections.failed("a"); // already out: no second ejection
    ejections.serverError("b");
    ejections.serverError("b");

    assertThat(heard).containsExactly("a", "b");
  }
}
