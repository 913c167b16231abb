package io.teller.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.backend.testing.Await;
import io.teller.backend.testing.Backends;
import io.teller.backend.testing.Backends.Deployed;
import io.teller.backend.testing.Http;
import io.teller.backend.testing.LogLines;
import io.teller.backend.testing.TestRegistry;
import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.testing.Poll;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Self-registration over the clustered event bus: a real registry on a data node of a test cluster,
 * the backend on a lite member, as in production.
 */
@Timeout(60)
class SelfRegistrationClusterTest {

  private static TestRegistry registry;
  private static TellerCluster lite;
  private final List<Deployed> deployed = new ArrayList<>();

  @BeforeAll
  static void startCluster() throws Exception {
    registry = new TestRegistry("backend-bus", Files.createTempDirectory("backend-bus"));
    registry.start();
    lite = registry.clusters().start(ClusterRole.LITE);
  }

  @AfterAll
  static void stopCluster() {
    if (registry != null) {
      registry.close();
    }
  }

  @AfterEach
  void undeployBackends() {
    for (Deployed backend : deployed) {
      if (lite.vertx().deploymentIDs().contains(backend.deploymentId())) {
        Await.result(backend.undeploy());
      }
    }
  }

  private Deployed backend(String service, int ttlSeconds) {
    Deployed backend =
        Backends.overEventBus(
            lite, Map.of(BackendSettings.SERVICE, service, BackendSettings.TTL, ttlSeconds));
    deployed.add(backend);
    return backend;
  }

  private String instanceUrl(String service, String id) {
    return registry.url("/v1/services/" + service + "/instances/" + id);
  }

  @Test
  void registersAndItsHeartbeatsKeepItPastItsTtl() throws Exception {
    Deployed backend = backend("bus-demo", 2);
    JsonObject first = Http.get(instanceUrl("bus-demo", backend.id())).json();
    assertThat(first.getString("source")).isEqualTo("event-bus");
    assertThat(first.getString("member")).isEqualTo(lite.memberId());
    assertThat(first.getString("host")).isEqualTo("127.0.0.1");
    assertThat(first.getInteger("port")).isEqualTo(backend.verticle().actualPort());
    assertThat(first.getString("status")).isEqualTo("healthy");

    // Still the first registration well after its 2 s TTL: heartbeats (every 667 ms) kept it.
    Instant registeredAt = Instant.parse(first.getString("registeredAt"));
    Poll.until(
        Duration.ofSeconds(15),
        () -> {
          JsonObject now = Http.get(instanceUrl("bus-demo", backend.id())).json();
          assertThat(Instant.parse(now.getString("registeredAt"))).isEqualTo(registeredAt);
          assertThat(Instant.parse(now.getString("lastHeartbeatAt")))
              .isAfter(registeredAt.plusMillis(3_000));
        });
  }

  @Test
  void registersAgainWhenTheRegistryForgetsIt() throws Exception {
    Deployed backend = backend("forgotten", 1);
    String url = instanceUrl("forgotten", backend.id());
    Instant registeredAt = Instant.parse(Http.get(url).json().getString("registeredAt"));

    assertThat(Http.delete(url + "?drain=0").status()).isEqualTo(200);

    // The next heartbeat (within 333 ms) is told 404 and registers the same address again.
    Poll.until(
        Duration.ofSeconds(10),
        () -> {
          Http.Response again = Http.get(url);
          assertThat(again.status()).isEqualTo(200);
          assertThat(again.json().getString("id")).isEqualTo(backend.id());
          assertThat(Instant.parse(again.json().getString("registeredAt"))).isAfter(registeredAt);
        });
  }

  @Test
  void ridesOutARegistryThatIsGoneForAWhileAndSaysSoOnceEachWay() throws Exception {
    try (LogLines log = new LogLines("teller.backend")) {
      Deployed backend = backend("patient", 3);
      String url = instanceUrl("patient", backend.id());
      registry.undeployFirst();
      try {
        // The next heartbeat (within 1 s) finds no handler; the later retries say nothing more.
        Poll.until(
            Duration.ofSeconds(10),
            () -> assertThat(log.containing("lost the registry on the event bus")).hasSize(1));
      } finally {
        registry.redeployFirst();
      }
      Poll.until(
          Duration.ofSeconds(15),
          () -> assertThat(log.containing("registry is back on the event bus")).hasSize(1));
      assertThat(log.containing("lost the registry")).hasSize(1);
      Poll.until(Duration.ofSeconds(10), () -> assertThat(Http.get(url).status()).isEqualTo(200));
    }
  }

  @Test
  void stopDeregistersWithDrainThenTheRegistryDropsIt() throws Exception {
    assertThat(
            Http.put(registry.url("/v1/services/draining"), "{\"drainTimeoutMs\":1500}").status())
        .isEqualTo(201);
    Deployed backend = backend("draining", 10);
    String url = instanceUrl("draining", backend.id());
    assertThat(Http.get(url).json().getString("status")).isEqualTo("healthy");
    CompletableFuture<Http.Response> slow = Http.getAsync(backend.url("/work?ms=600"));
    Poll.until(
        Duration.ofSeconds(5),
        () ->
            assertThat(Http.get(backend.url("/stats")).json().getInteger("inFlight")).isEqualTo(1));

    Future<Void> undeployed = backend.undeploy();
    Poll.until(
        Duration.ofSeconds(5),
        () -> assertThat(Http.get(url).json().getString("status")).isEqualTo("draining"));
    assertThat(slow.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
    Await.result(undeployed);
    Poll.until(Duration.ofSeconds(10), () -> assertThat(Http.get(url).status()).isEqualTo(404));
  }
}
