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
    assertThat(Math.min(Ejections.MAX_MILLIS, Ejections.FIRST_MILLIS << 0)).isEqualTo(1_000);
    assertThat(Math.min(Ejections.MAX_MILLIS, Ejections.FIRST_MILLIS << 3)).isEqualTo(8_000);
    assertThat(Math.min(Ejections.MAX_MILLIS, Ejections.FIRST_MILLIS << 5)).isEqualTo(30_000);
  }
}
