package io.teller.balancer.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.model.Service;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class SniTableTest {

  static Service service(String name, String... hosts) {
    return Service.fromJson(
        new JsonObject().put("routes", List.of(new JsonObject().put("hosts", List.of(hosts)))),
        name);
  }

  @Test
  void exactBeforeWildcardLongestSuffixFirst() {
    SniTable table =
        SniTable.build(
            List.of(
                service("any", "*.example.com"),
                service("api", "*.api.example.com"),
                service("shop", "shop.example.com")));
    assertThat(table.service("shop.example.com")).isEqualTo("shop");
    assertThat(table.service("v1.api.example.com")).isEqualTo("api");
    assertThat(table.service("a.b.example.com")).isEqualTo("any");
    assertThat(table.service("example.com")).isNull();
    assertThat(table.service("other.test")).isNull();
    assertThat(table.service(null)).isNull();
  }

  @Test
  void aNameClaimedTwiceGoesToTheFirstServiceByName() {
    SniTable table = SniTable.build(List.of(service("zeta", "x.test"), service("alpha", "x.test")));
    assertThat(table.service("x.test")).isEqualTo("alpha");
  }
}
