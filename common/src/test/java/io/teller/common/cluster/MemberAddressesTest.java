package io.teller.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MemberAddressesTest {

  @Test
  void aHostWithoutPortIsTriedOnTheWellKnownPortAndTheTwoAbove() {
    assertThat(TellerCluster.memberAddresses(List.of("registry", "10.0.0.2:6000", "::1")))
        .containsExactly(
            "registry:5701",
            "registry:5702",
            "registry:5703",
            "10.0.0.2:6000",
            "[::1]:5701",
            "[::1]:5702",
            "[::1]:5703");
  }
}
