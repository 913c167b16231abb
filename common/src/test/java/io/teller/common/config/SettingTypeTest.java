package io.teller.common.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.config.SettingType.Hosts;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SettingTypeTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "127.0.0.1",
        "registry",
        "registry-1.teller.svc",
        "::1",
        "[::1]",
        "10.0.0.255"
      })
  void hosts(String host) {
    assertThat(Hosts.isHost(host)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "bad host", "under_score", "-lead", "256.1.1.1", "1.2.3", "a..b", "ho$t"})
  void notHosts(String host) {
    assertThat(Hosts.isHost(host)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"registry:5701", "127.0.0.1", "[::1]:5701", "h:1", "h:65535"})
  void hostPorts(String value) {
    assertThat(Hosts.isHostPort(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"h:0", "h:65536", "h:", ":5701", "h:port", "[::1]:99999"})
  void notHostPorts(String value) {
    assertThat(Hosts.isHostPort(value)).isFalse();
  }
}
