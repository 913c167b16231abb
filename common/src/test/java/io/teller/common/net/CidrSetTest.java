package io.teller.common.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class CidrSetTest {

  @Test
  void addressesInsideAndOutsideTheRanges() {
    CidrSet set = CidrSet.parse(List.of("10.0.0.0/8", "192.168.1.5", "fd00::/8", "172.16.0.0/12"));
    assertThat(set.contains("10.1.2.3")).isTrue();
    assertThat(set.contains("11.0.0.1")).isFalse();
    assertThat(set.contains("192.168.1.5")).isTrue();
    assertThat(set.contains("192.168.1.6")).isFalse();
    assertThat(set.contains("172.31.255.255")).isTrue();
    assertThat(set.contains("172.32.0.0")).isFalse();
    assertThat(set.contains("fd12::1")).isTrue();
    assertThat(set.contains("fe80::1")).isFalse();
    assertThat(set.contains("::ffff:10.9.9.9")).isTrue();
    assertThat(set.contains("not-an-address")).isFalse();
    assertThat(set.contains("localhost")).isFalse();
  }

  @Test
  void zeroBitsMatchEveryAddressOfItsFamily() {
    CidrSet all = CidrSet.parse(List.of("0.0.0.0/0"));
    assertThat(all.contains("8.8.8.8")).isTrue();
    assertThat(all.contains("::1")).isFalse();
  }

  @Test
  void theEmptySetHoldsNothing() {
    assertThat(CidrSet.parse(List.of()).contains("127.0.0.1")).isFalse();
    assertThat(CidrSet.parse(List.of(" ")).isEmpty()).isTrue();
  }

  @Test
  void whatIsNotARangeIsNamed() {
    assertThatThrownBy(() -> CidrSet.parse(List.of("10.0.0.0/33")))
        .hasMessageContaining("10.0.0.0/33");
    assertThatThrownBy(() -> CidrSet.parse(List.of("example.com")))
        .hasMessageContaining("example.com");
    assertThatThrownBy(() -> CidrSet.parse(List.of("10.0.0.0/x")))
        .hasMessageContaining("10.0.0.0/x");
  }
}
