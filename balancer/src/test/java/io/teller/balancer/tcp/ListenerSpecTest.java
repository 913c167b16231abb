package io.teller.balancer.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.balancer.BalancerSettings;
import io.teller.common.config.ConfigException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ListenerSpecTest {

  @Test
  void readsServiceStrategyAndSniListeners() {
    List<ListenerSpec> specs =
        ListenerSpec.parseAll(" 15432:pg:least-connections, 16379:cache ,18443:sni");
    assertThat(specs)
        .containsExactly(
            new ListenerSpec(
                15432, ListenerSpec.Kind.SERVICE, "pg", "least-connections", "config", 0),
            new ListenerSpec(16379, ListenerSpec.Kind.SERVICE, "cache", null, "config", 0),
            new ListenerSpec(18443, ListenerSpec.Kind.SNI, null, null, "config", 0));
    assertThat(specs.stream().map(String::valueOf))
        .containsExactly("15432:pg:least-connections", "16379:cache", "18443:sni");
    assertThat(ListenerSpec.parseAll(List.of("1:a", "2:sni"))).hasSize(2);
    assertThat(ListenerSpec.parseAll("")).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "15432                     | must be PORT:SERVICE",
        "0:pg                      | port must be a number between 1 and 65535",
        "70000:pg                  | port must be a number between 1 and 65535",
        "x:pg                      | port must be a number between 1 and 65535",
        "15432:Bad_Name            | is not a service name",
        "15432:pg:fastest          | unknown strategy 'fastest'",
        "18443:sni:round-robin     | an SNI listener takes no strategy",
        "15432:pg;15432:other      | is given twice",
        "1:a:round-robin:x         | must be PORT:SERVICE",
      })
  void aBadValueIsOneLineNamingTheSettingAndTheEntry(String value, String reason) {
    String raw = value.replace(';', ',');
    assertThatThrownBy(
            () -> BalancerSettings.TCP_LISTENERS.type().parse(BalancerSettings.TCP_LISTENERS, raw))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TELLER_TCP_LISTENERS (tcp.listeners)")
        .hasMessageContaining(reason)
        .hasMessageNotContaining("\n");
  }
}
