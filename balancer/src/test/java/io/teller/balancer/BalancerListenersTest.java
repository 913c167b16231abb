package io.teller.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.balancer.tcp.ListenerSpec;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.config.TellerConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a balancer tells the cluster it listens on, for the registry to refuse instances there. */
class BalancerListenersTest {

  @Test
  void everyListenerAndEveryServicesTcpPort() {
    TellerConfig config =
        TellerConfig.of(
            Map.of(
                BalancerSettings.HTTPS_PORT, 8443,
                BalancerSettings.HTTP_PORT, 8080,
                BalancerSettings.ADMIN_PORT, 9100,
                BalancerSettings.TCP_LISTENERS, ListenerSpec.parseAll("15432:pg,6379:cache")));

    MemberListeners listeners = new BalancerMain().listeners(config);

    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put("https", 8443);
    expected.put("http", 8080);
    expected.put("admin", 9100);
    expected.put("tcp-15432", 15432);
    expected.put("tcp-6379", 6379);
    assertThat(listeners).isEqualTo(new MemberListeners(expected, true));
    assertThat(listeners.encode())
        .isEqualTo("https=8443,http=8080,admin=9100,tcp-15432=15432,tcp-6379=6379,tcp=services");
  }
}
