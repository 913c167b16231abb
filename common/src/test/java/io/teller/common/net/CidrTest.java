package io.teller.common.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.config.ConfigException;
import io.teller.common.config.Setting;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** CIDR ranges as instances.allow and instances.deny read them. */
class CidrTest {

  static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @ParameterizedTest
  @CsvSource({
    "10.0.0.0/8,       10.255.1.2,        true",
    "10.0.0.0/8,       11.0.0.0,          false",
    "10.1.2.3,         10.1.2.3,          true",
    "10.1.2.3,         10.1.2.4,          false",
    "10.1.2.3/31,      10.1.2.2,          true",
    "10.1.2.3/31,      10.1.2.4,          false",
    "0.0.0.0/0,        203.0.113.9,       true",
    "0.0.0.0/0,        ::1,               false",
    "169.254.0.0/16,   169.254.169.254,   true",
    "172.16.0.0/12,    172.31.255.255,    true",
    "172.16.0.0/12,    172.32.0.0,        false",
    "fd00::/8,         fd12:3456::1,      true",
    "fd00::/8,         fe80::1,           false",
    "::1,              ::1,               true",
    "::/0,             10.0.0.1,          false",
    "2001:db8::/33,    2001:db8:7fff::1,  true",
    "2001:db8::/33,    2001:db8:8000::1,  false",
    // IPv4-mapped IPv6 is the IPv4 range it maps, as Java reads such addresses.
    "::ffff:10.0.0.0/104, 10.9.9.9,       true",
    "::ffff:10.0.0.0/104, 11.0.0.0,       false",
    "10.0.0.0/8,       ::ffff:10.1.1.1,   true",
  })
  void containsWhatItShould(String range, String address, boolean in) throws Exception {
    assertThat(Cidr.parse(range).contains(ip(address))).isEqualTo(in);
  }

  @Test
  void hostBitsAreDroppedAndTheRangeReadsBackAsWritten() {
    assertThat(Cidr.parse("10.1.2.3/8"))
        .hasToString("10.0.0.0/8")
        .isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("fd12::1/8")).hasToString("fd00:0:0:0:0:0:0:0/8");
    assertThat(Cidr.parse("127.0.0.1")).hasToString("127.0.0.1/32");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/x",
        "example.com",
        "10.0.0",
        "2130706433",
        "10.0.0.0/-1",
        "fe80::1%eth0",
        "::ffff:10.0.0.0/95",
        "1.2.3.256"
      })
  void refusesWhatIsNotARange(String text) {
    assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theSettingTakesACommaListOrAYamlListAndMayBeEmpty() {
    Setting setting = new Setting("instances.allow", Cidr.LIST, "test");
    assertThat(Cidr.LIST.parse(setting, "")).isEqualTo(List.of());
    assertThat(Cidr.LIST.parse(setting, " 10.0.0.0/8 , fd00::/8 "))
        .isEqualTo(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8")));
    assertThat(Cidr.LIST.parse(setting, List.of("10.0.0.0/8", "::1")))
        .isEqualTo(List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("::1")));
    assertThat(Cidr.LIST.display(Cidr.LIST.parse(setting, "10.0.0.0/8,::1")))
        .isEqualTo("10.0.0.0/8,0:0:0:0:0:0:0:1/128");
    assertThatThrownBy(() -> Cidr.LIST.parse(setting, "10.0.0.0/8,nope"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("TELLER_INSTANCES_ALLOW")
        .hasMessageContaining("\"nope\" is not an IPv4 or IPv6 address or range");
  }
}
