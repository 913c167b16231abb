package io.teller.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.cluster.Member;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TestClusters;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a member publishes about its listeners, and what the others read. */
@Timeout(120)
class MemberListenersTest {

  @Test
  void encodesAndDecodesInOrder() {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("https", 8443);
    ports.put("http", 8080);
    ports.put("admin", 9100);
    ports.put("tcp-15432", 15432);
    MemberListeners listeners = new MemberListeners(ports, true);

    assertThat(listeners.encode())
        .isEqualTo("https=8443,http=8080,admin=9100,tcp-15432=15432,tcp=services");
    assertThat(MemberListeners.decode(listeners.encode())).isEqualTo(listeners);
    assertThat(MemberListeners.decode("api=9000"))
        .isEqualTo(new MemberListeners(Map.of("api", 9000), false));
  }

  @Test
  void decodingSkipsWhatItDoesNotUnderstand() {
    // A member of a later version may publish more; what is readable still counts.
    assertThat(MemberListeners.decode("api=9000,quic=udp,=1,Bad=2,big=70000,admin=9100"))
        .isEqualTo(
            new MemberListeners(new LinkedHashMap<>(Map.of("api", 9000, "admin", 9100)), false));
    assertThat(MemberListeners.decode(null)).isEqualTo(MemberListeners.NONE);
    assertThat(MemberListeners.decode("")).isEqualTo(MemberListeners.NONE);
  }

  @Test
  void refusesABadListener() {
    assertThatThrownBy(() -> new MemberListeners(Map.of("api", 0), false))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MemberListeners(Map.of("a=b", 80), false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void everyMemberSeesWhatTheOthersListenOnAndWhereTheirEventBusIs() throws Exception {
    try (TestClusters clusters = new TestClusters("listeners")) {
      TellerCluster registry =
          clusters.start(
              clusters
                  .options(ClusterRole.DATA)
                  .withListeners(new MemberListeners(Map.of("api", 9000), false)));
      TellerCluster balancer =
          clusters.start(
              clusters
                  .options(ClusterRole.LITE)
                  .withListeners(new MemberListeners(Map.of("https", 8443, "admin", 9100), true)));
      TellerCluster backend = clusters.start(ClusterRole.LITE);

      Map<String, MemberListeners> seen = new LinkedHashMap<>();
      for (Member member : registry.hazelcast().getCluster().getMembers()) {
        seen.put(member.getUuid().toString(), MemberListeners.of(member));
      }
      assertThat(seen)
          .containsEntry(registry.memberId(), new MemberListeners(Map.of("api", 9000), false))
          .containsEntry(
              balancer.memberId(), new MemberListeners(Map.of("https", 8443, "admin", 9100), true))
          .containsEntry(backend.memberId(), MemberListeners.NONE);

      List<SocketAddress> eventBuses =
          backend
              .eventBusAddresses()
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(eventBuses).hasSize(3);
      assertThat(eventBuses).allSatisfy(a -> assertThat(a.host()).isEqualTo("127.0.0.1"));
      assertThat(eventBuses.stream().map(SocketAddress::port).distinct()).hasSize(3);

      clusters.stop(balancer);
      Poll.until(
          Duration.ofSeconds(10),
          () ->
              assertThat(
                      backend
                          .eventBusAddresses()
                          .toCompletionStage()
                          .toCompletableFuture()
                          .get(10, TimeUnit.SECONDS))
                  .hasSize(2));
    }
  }
}
