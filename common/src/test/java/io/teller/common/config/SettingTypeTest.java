package io.teller.common.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

  @ParameterizedTest
  @ValueSource(strings = {"", "  ", "127.0.0.1", "admin.internal", "::1"})
  void optionalHosts(String value) {
    Setting setting = new Setting("admin.host", SettingType.OPTIONAL_HOST, "");
    assertThat(SettingType.OPTIONAL_HOST.parse(setting, value)).isEqualTo(value.trim());
  }

  @ParameterizedTest
  @ValueSource(strings = {"bad host", "256.1.1.1", "0.0.0.0:9100"})
  void notOptionalHosts(String value) {
    Setting setting = new Setting("admin.host", SettingType.OPTIONAL_HOST, "");
    assertThatThrownBy(() -> SettingType.OPTIONAL_HOST.parse(setting, value))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "bad configuration: TELLER_ADMIN_HOST (admin.host) = \""
                + value
                + "\": must be a host name, an IP address, or empty");
  }
}
