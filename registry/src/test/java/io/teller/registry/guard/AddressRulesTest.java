package io.teller.registry.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.net.Cidr;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** instances.allow and instances.deny together. */
class AddressRulesTest {

  static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void noRuleAllowsEverything() throws Exception {
    assertThat(AddressRules.NONE.refusal(ip("169.254.169.254"))).isEmpty();
    assertThat(AddressRules.NONE.refusal(ip("::1"))).isEmpty();
  }

  @Test
  void denyAloneRefusesItsRangesOnly() throws Exception {
    AddressRules rules = new AddressRules(List.of(), List.of(Cidr.parse("169.254.0.0/16")));
    assertThat(rules.refusal(ip("169.254.169.254")))
        .contains("169.254.169.254 is in instances.deny (169.254.0.0/16)");
    assertThat(rules.refusal(ip("10.0.0.5"))).isEmpty();
  }

  @Test
  void allowRefusesEverythingOutsideItAndDenyWinsInsideIt() throws Exception {
    AddressRules rules =
        new AddressRules(
            List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8")),
            List.of(Cidr.parse("10.0.0.0/24")));
    assertThat(rules.refusal(ip("10.1.0.5"))).isEmpty();
    assertThat(rules.refusal(ip("fd00::5"))).isEmpty();
    assertThat(rules.refusal(ip("10.0.0.5")))
        .contains("10.0.0.5 is in instances.deny (10.0.0.0/24)");
    assertThat(rules.refusal(ip("192.168.0.5"))).contains("192.168.0.5 is not in instances.allow");
    assertThat(rules.refusal(ip("::1"))).contains("0:0:0:0:0:0:0:1 is not in instances.allow");
  }
}
