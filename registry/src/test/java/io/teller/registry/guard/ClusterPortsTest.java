package io.teller.registry.guard;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.registry.guard.ClusterPorts.Listener;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which address and port reach a member's own listener. Members at addresses other than loopback
 * are only data here: nothing connects anywhere.
 */
class ClusterPortsTest {

  static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  static ClusterPorts ports() throws Exception {
    return new ClusterPorts(
        List.of(
            new Listener(ip("10.0.0.21"), 9100, "admin", "10.0.0.21:5701"),
            new Listener(ip("10.0.0.21"), 8443, "https", "10.0.0.21:5701"),
            new Listener(ip("10.0.0.11"), 9000, "api", "10.0.0.11:5701"),
            new Listener(ip("10.0.0.11"), 5701, "Hazelcast", "10.0.0.11:5701"),
            new Listener(ip("fd00::11"), 9000, "api", "[fd00::11]:5701")));
  }

  @Test
  void aMembersAddressIsRefusedOnItsOwnPortsOnly() throws Exception {
    assertThat(ports().refusal(ip("10.0.0.21"), 9100))
        .contains("10.0.0.21:9100 is the admin listener of cluster member 10.0.0.21:5701");
    assertThat(ports().refusal(ip("10.0.0.11"), 5701))
        .contains("10.0.0.11:5701 is the Hazelcast listener of cluster member 10.0.0.11:5701");
    // Another member's port at this member's address is an ordinary backend port.
    assertThat(ports().refusal(ip("10.0.0.21"), 9000)).isEmpty();
    assertThat(ports().refusal(ip("10.0.0.11"), 9100)).isEmpty();
    // A backend on a member's host, on a port no member listens on.
    assertThat(ports().refusal(ip("10.0.0.21"), 8080)).isEmpty();
    assertThat(ports().refusal(ip("fd00::11"), 9000))
        .contains(
            "[fd00:0:0:0:0:0:0:11]:9000 is the api listener of cluster member [fd00::11]:5701");
  }

  @Test
  void loopbackAndUnspecifiedAreRefusedOnAnyMembersPorts() throws Exception {
    for (String local : List.of("127.0.0.1", "127.8.9.10", "::1", "0.0.0.0", "::")) {
      assertThat(ports().refusal(ip(local), 9100)).as(local).isPresent();
      assertThat(ports().refusal(ip(local), 9000)).as(local).isPresent();
      assertThat(ports().refusal(ip(local), 8080)).as(local).isEmpty();
    }
    assertThat(ports().refusal(ip("127.0.0.1"), 9100))
        .contains(
            "127.0.0.1:9100 is a loopback address, and 9100 is the admin port of cluster member"
                + " 10.0.0.21:5701");
    assertThat(ports().refusal(ip("0.0.0.0"), 8443))
        .contains(
            "0.0.0.0:8443 is an unspecified address, and 8443 is the https port of cluster member"
                + " 10.0.0.21:5701");
  }

  @Test
  void otherAddressesAreNotTheClustersBusiness() throws Exception {
    assertThat(ports().refusal(ip("10.0.0.99"), 9100)).isEmpty();
    assertThat(ports().refusal(ip("203.0.113.7"), 9000)).isEmpty();
  }
}
