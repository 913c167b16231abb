package io.teller.registry.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.teller.common.cluster.ClusterOptions;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.MemberListeners;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.RegistryFailure;
import io.teller.common.net.Cidr;
import io.teller.common.testing.TestClusters;
import io.teller.registry.RegistrySettings;
import io.teller.registry.testing.Http;
import io.teller.registry.testing.RegistryNodes;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real cluster on loopback: a registry node, a member standing for a balancer at 127.0.0.2 (its
 * own loopback address, so that "a member's address" and "loopback" are both exercised) with the
 * listeners a balancer publishes, and a backend's lite member registering over the event bus.
 */
@Timeout(120)
class InstanceGuardTest {

  @TempDir static Path dataDir;
  static RegistryNodes nodes;
  static RegistryNodes.Node registry;
  static TellerCluster balancer;
  static TellerCluster backend;
  static Map<String, Integer> balancerPorts = new LinkedHashMap<>();

  @BeforeAll
  static void start() {
    nodes = new RegistryNodes("guard", dataDir);
    registry = nodes.start();
    balancerPorts.put("https", TestClusters.freePort());
    balancerPorts.put("http", TestClusters.freePort());
    balancerPorts.put("admin", TestClusters.freePort());
    TestClusters clusters = nodes.clusters();
    balancer =
        clusters.start(
            new ClusterOptions(
                    clusters.name(),
                    clusters.members(),
                    "127.0.0.2",
                    TestClusters.freePort(),
                    ClusterRole.LITE)
                .withListeners(new MemberListeners(balancerPorts, true)));
    backend = clusters.start(ClusterRole.LITE);
  }

  @AfterAll
  static void stop() {
    nodes.close();
  }

  static Http.Response register(RegistryNodes.Node node, String host, int port) {
    return Http.post(
        node.url("/v1/services/guarded/instances"),
        new JsonObject().put("host", host).put("port", port).encode());
  }

  static void assertRefused(Http.Response response, String field, String detail) {
    assertThat(response.status()).as(response.body()).isEqualTo(400);
    assertThat(response.contentType()).isEqualTo("application/problem+json");
    assertThat(response.json().getString("field")).isEqualTo(field);
    assertThat(response.json().getString("detail")).contains(detail);
  }

  static int hazelcastPort(TellerCluster node) {
    return node.hazelcast().getCluster().getLocalMember().getAddress().getPort();
  }

  @Test
  void aMembersOwnListenersAreRefusedAtItsAddressAtLoopbackAndAtNoAddress() {
    int admin = balancerPorts.get("admin");
    assertRefused(
        register(registry, "127.0.0.2", admin),
        "port",
        "127.0.0.2:" + admin + " is the admin listener of cluster member 127.0.0.2:");
    assertRefused(register(registry, "127.0.0.1", admin), "port", "is a loopback address");
    assertRefused(
        register(registry, "localhost", balancerPorts.get("https")),
        "port",
        "localhost resolves to 127.0.0.1, and");
    assertRefused(
        register(registry, "0.0.0.0", balancerPorts.get("http")),
        "port",
        "is an unspecified address, and " + balancerPorts.get("http") + " is the http port");
    assertRefused(register(registry, "::1", admin), "port", "is a loopback address");
    // The registry's own API, and every member's Hazelcast port.
    assertRefused(register(registry, "127.0.0.1", registry.port()), "port", "is the api listener");
    assertRefused(
        register(registry, "127.0.0.1", hazelcastPort(registry.cluster())),
        "port",
        "is the Hazelcast listener");
    assertRefused(
        register(registry, "127.0.0.1", hazelcastPort(backend)), "port", "is the Hazelcast");
  }

  @Test
  void everyMembersEventBusPortIsRefused() throws Exception {
    List<SocketAddress> eventBuses =
        backend
            .eventBusAddresses()
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    // The registry, the balancer at 127.0.0.2 and the backend (and any node another test started).
    assertThat(eventBuses)
        .hasSizeGreaterThanOrEqualTo(3)
        .anyMatch(a -> a.host().equals("127.0.0.2"));
    for (SocketAddress eventBus : eventBuses) {
      assertRefused(
          register(registry, eventBus.host(), eventBus.port()),
          "port",
          "is the event bus listener");
    }
  }

  @Test
  void aServicesTcpPortIsRefusedAtTheBalancersAddress() {
    int tcpPort = TestClusters.freePort();
    assertThat(
            Http.put(registry.url("/v1/services/pg-guarded"), "{\"tcpPort\": " + tcpPort + "}")
                .status())
        .isIn(200, 201);
    assertRefused(
        register(registry, "127.0.0.2", tcpPort),
        "port",
        "is the tcpPort of service pg-guarded listener of cluster member 127.0.0.2:");
    assertRefused(
        register(registry, "127.0.0.1", tcpPort), "port", "tcpPort of service pg-guarded");
  }

  @Test
  void aTcpPortGivenTakenBackOrDeletedCountsForTheNextRegistration() {
    // The guard keeps the services with a tcpPort between registrations: each change must reach
    // the very next one.
    int tcpPort = TestClusters.freePort();
    String service = registry.url("/v1/services/pg-changing");
    assertThat(register(registry, "127.0.0.1", tcpPort).status()).isIn(200, 201);
    assertThat(Http.put(service, "{\"tcpPort\": " + tcpPort + "}").status()).isEqualTo(201);
    assertRefused(
        register(registry, "127.0.0.1", tcpPort), "port", "tcpPort of service pg-changing");
    assertThat(Http.put(service, "{}").status()).isEqualTo(200);
    assertThat(register(registry, "127.0.0.1", tcpPort).status()).isIn(200, 201);
    assertThat(Http.put(service, "{\"tcpPort\": " + tcpPort + "}").status()).isEqualTo(200);
    assertRefused(
        register(registry, "127.0.0.1", tcpPort), "port", "tcpPort of service pg-changing");
    assertThat(Http.delete(service).status()).isEqualTo(204);
    assertThat(register(registry, "127.0.0.1", tcpPort).status()).isIn(200, 201);
  }

  @Test
  void ordinaryBackendsOnLoopbackAndOnAMembersAddressAreRegistered() {
    // ./teller up: every backend is on 127.0.0.1 at a free port.
    int free = TestClusters.freePort();
    assertThat(register(registry, "127.0.0.1", free).status()).isEqualTo(201);
    assertThat(register(registry, "localhost", free).status()).isEqualTo(201);
    // A backend on a balancer's host, on a port of its own.
    assertThat(register(registry, "127.0.0.2", free).status()).isEqualTo(201);
    assertThat(Http.get(registry.url("/v1/services/guarded/instances")).array())
        .noneMatch(
            i ->
                balancerPorts.containsValue(((JsonObject) i).getInteger("port"))
                    || ((JsonObject) i).getInteger("port") == registry.port());
  }

  @Test
  void numericHostsThatResolversReadDifferentlyAndUnknownNamesAreRefused() {
    int free = TestClusters.freePort();
    // 2130706433 is 127.0.0.1 to Java and to the C library; 017.0.0.1 is 17.0.0.1 to Java and
    // 15.0.0.1 to the C library.
    for (String host : List.of("2130706433", "017.0.0.1", "127.1", "0x7f.0.0.1", "0")) {
      assertRefused(register(registry, host, free), "host", "four decimal numbers");
    }
    assertRefused(
        register(registry, "no-such-host.invalid", free),
        "host",
        "no-such-host.invalid does not resolve to an address");
  }

  @Test
  void overTheEventBusTheSameRegistrationFailsTheSameWay() throws Exception {
    int admin = balancerPorts.get("admin");
    JsonObject request =
        new JsonObject()
            .put("service", "guarded-bus")
            .put("member", backend.memberId())
            .put("registration", new JsonObject().put("host", "127.0.0.1").put("port", admin));
    assertThatThrownBy(
            () -> {
              try {
                backend
                    .vertx()
                    .eventBus()
                    .<JsonObject>request(RegistryContract.REGISTER, request)
                    .map(Message::body)
                    .toCompletionStage()
                    .toCompletableFuture()
                    .get(20, TimeUnit.SECONDS);
              } catch (ExecutionException e) {
                throw e.getCause();
              }
            })
        .satisfies(
            failure -> {
              RegistryFailure registryFailure = RegistryFailure.of(failure);
              assertThat(registryFailure.status()).isEqualTo(400);
              assertThat(registryFailure.field()).isEqualTo("port");
              assertThat(registryFailure.detail())
                  .contains("127.0.0.1:" + admin + " is a loopback address");
            });
    // Nothing half-registered: not even the service a first registration would have created.
    assertThat(Http.get(registry.url("/v1/services/guarded-bus")).status()).isEqualTo(404);
  }

  @Test
  void instancesAllowAndDenyRefuseOnTheResolvedAddressDenyWinning() {
    RegistryNodes.Node ruled =
        nodes.start(
            Map.of(
                RegistrySettings.INSTANCES_ALLOW,
                List.of(Cidr.parse("127.0.0.0/8")),
                RegistrySettings.INSTANCES_DENY,
                List.of(Cidr.parse("127.0.0.1/32"), Cidr.parse("127.0.0.3/32"))));
    int free = TestClusters.freePort();
    assertThat(register(ruled, "127.0.0.4", free).status()).isEqualTo(201);
    assertRefused(
        register(ruled, "127.0.0.3", free),
        "host",
        "refused: 127.0.0.3 is in instances.deny (127.0.0.3/32)");
    assertRefused(
        register(ruled, "::1", free), "host", "0:0:0:0:0:0:0:1 is not in instances.allow");
    // A name is judged by what it resolves to.
    assertRefused(register(ruled, "localhost", free), "host", "refused: localhost resolves to");
    assertThat(Http.get(ruled.url("/v1/services/guarded/instances")).array())
        .noneMatch(
            i ->
                List.of("127.0.0.3", "::1", "localhost")
                    .contains(((JsonObject) i).getString("host")));
  }
}
