package io.teller.balancer.counting;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class EjectionsTest {

  @Test
  void aFailureEjectsUntilASuccess() {
    Ejections ejections = new Ejections();
    assertThat(ejections.any()).isFalse();
    ejections.failed("a");
    assertThat(ejections.isEjected("a")).isTrue();
    assertThat(ejections.isEjected("b")).isFalse();
    assertThat(ejections.ejectedAmong(Set.of("a", "b"))).containsExactly("a");
    ejections.succeeded("a");
    assertThat(ejections.isEjected("a")).isFalse();
    assertThat(ejections.any()).isFalse();
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
}
