package io.teller.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.backend.testing.Backends;
import io.teller.common.config.ConfigException;
import io.teller.common.config.Setting;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The checks the backend makes on its configuration before it starts anything. */
class BackendMainTest {

  private final BackendMain main = new BackendMain();

  @Test
  void theDefaultsPassAndJoinTheCluster() {
    main.check(Backends.config(Map.of()));
    assertThat(main.joinsCluster(Backends.config(Map.of()))).isTrue();
  }

  @Test
  void aRegistryUrlMeansRestWithoutTheCluster() {
    var config = Backends.config(Map.of(BackendSettings.REGISTRY_URL, "http://registry:9000"));
    main.check(config);
    assertThat(main.joinsCluster(config)).isFalse();
  }

  @Test
  void theAdvertisedHostDefaultsToTheClusterHost() {
    assertThat(BackendVerticle.advertisedHost(Backends.config(Map.of()))).isEqualTo("127.0.0.1");
    assertThat(
            BackendVerticle.advertisedHost(
                Backends.config(Map.of(BackendSettings.ADVERTISE_HOST, "backend-3"))))
        .isEqualTo("backend-3");
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "TELLER_SERVICE        | Sample_1         | must be a DNS label",
        "TELLER_ADVERTISE_HOST | not_a_host       | must be a host name or an IP address",
        "TELLER_BACKEND_ROUTE  | sample           | must start with /",
        "TELLER_REGISTRY_URL   | registry:9000    | must be an http:// or https:// URL",
        "TELLER_REGISTRY_URL   | ftp://registry   | must be an http:// or https:// URL",
        "TELLER_REGISTRY_URL   | http://a b       | is not a URL",
      })
  void aBadValueIsNamedInOneLine(String variable, String value, String reason) {
    Setting setting =
        BackendSettings.ALL.stream()
            .filter(s -> s.env().equals(variable))
            .findFirst()
            .orElseThrow();
    assertThatThrownBy(() -> main.check(Backends.config(Map.of(setting, value))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "bad configuration: "
                + variable
                + " ("
                + setting.path()
                + ") = \""
                + value
                + "\": "
                + reason);
  }
}
