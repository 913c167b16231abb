package io.teller.balancer.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StrategyOptionsTest {

  @Test
  void defaultHashesTheClientAddress() {
    assertThat(StrategyOptions.DEFAULT.hashOn()).isEqualTo("client-address");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "client-address",
        "header:X-User",
        "header:x-api-key",
        "cookie:session",
        "cookie:JSESSIONID"
      })
  void accepts(String hashOn) {
    assertThat(new StrategyOptions(hashOn).hashOn()).isEqualTo(hashOn);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "ip",
        "Client-Address",
        "client-address ",
        "header:",
        "cookie:",
        "header:X User",
        "cookie:a=b",
        "header:é",
        "query:id"
      })
  void rejectsWithTheValueInTheMessage(String hashOn) {
    assertThatThrownBy(() -> new StrategyOptions(hashOn))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + hashOn + "'");
  }

  @Test
  void rejectsNull() {
    assertThatThrownBy(() -> new StrategyOptions(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("client-address, header:<Name> or cookie:<name>");
  }
}
