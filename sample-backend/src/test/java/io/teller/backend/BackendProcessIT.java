package io.teller.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.backend.testing.Http;
import io.teller.backend.testing.TestRegistry;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestClusters;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample backend jar as a process, with a real registry in the test JVM: it joins as a lite
 * member, takes a free port, registers over the event bus, and on SIGTERM deregisters, finishes the
 * request it is serving and leaves.
 */
@Timeout(180)
class BackendProcessIT {

  @TempDir static Path dir;
  private static TestRegistry registry;

  @BeforeAll
  static void startRegistry() {
    registry = new TestRegistry("backend-it", dir);
    registry.start();
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  @Test
  void registersServesAndOnSigtermDrainsItsOpenRequest() throws Exception {
    Map<String, String> env =
        Map.of(
            "TELLER_CLUSTER_NAME", registry.clusters().name(),
            "TELLER_CLUSTER_MEMBERS", String.join(",", registry.clusters().members()),
            "TELLER_CLUSTER_PORT", String.valueOf(TestClusters.freePort()),
            "TELLER_LISTEN_HOST", "127.0.0.1",
            "TELLER_DATA_DIR", dir.toString());
    try (TellerProcess backend = TellerProcess.start(TellerProcess.moduleJar(), env)) {
      backend.awaitLine(
          "joined cluster '" + registry.clusters().name() + "' as lite member",
          Duration.ofSeconds(60));
      Matcher registered =
          backend.awaitLine(
              "registered as (sample-[0-9a-f]{10}) in service sample at 127\\.0\\.0\\.1:(\\d+)",
              Duration.ofSeconds(30));
      String id = registered.group(1);
      String url = "http://127.0.0.1:" + registered.group(2);
      String instanceUrl = registry.url("/v1/services/sample/instances/" + id);

      JsonObject root = Http.get(url + "/").json();
      assertThat(root.getString("instance")).isEqualTo(id);
      assertThat(root.getString("address")).isEqualTo("127.0.0.1:" + registered.group(2));
      assertThat(Http.get(instanceUrl).json().getString("status")).isEqualTo("healthy");

      CompletableFuture<Http.Response> slow = Http.getAsync(url + "/work?ms=1500");
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(Http.get(url + "/stats").json().getInteger("inFlight")).isEqualTo(1));

      ProcessHandle.of(backend.pid()).orElseThrow().destroy(); // SIGTERM
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(Http.get(instanceUrl).json().getString("status")).isEqualTo("draining"));
      assertThat(slow.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
      // Gone once the drain is over and the member has left the cluster.
      Poll.until(
          Duration.ofSeconds(15), () -> assertThat(Http.get(instanceUrl).status()).isEqualTo(404));

      // 143 = 128 + SIGTERM: how every JVM exits after a signal, once the shutdown hook is done.
      assertThat(backend.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
      assertThat(backend.output())
          .contains("deregistered " + id + " from service sample (draining)")
          .contains(
              "sample backend stopped after serving 2 request(s)") // / and /work; /stats is not
          // counted
          .contains("sample-backend stopped")
          .doesNotContain("did not stop cleanly");
    }
  }

  @Test
  void withARegistryUrlItRegistersOverRestWithoutJoiningTheCluster() throws Exception {
    Map<String, String> env =
        Map.of(
            "TELLER_REGISTRY_URL",
            registry.url(""),
            "TELLER_API_TOKEN",
            TestRegistry.TOKEN,
            "TELLER_SERVICE",
            "rest-process",
            "TELLER_BACKEND_TTL",
            "1",
            "TELLER_LISTEN_HOST",
            "127.0.0.1",
            "TELLER_DATA_DIR",
            dir.toString());
    try (TellerProcess backend = TellerProcess.start(TellerProcess.moduleJar(), env)) {
      Matcher registered =
          backend.awaitLine(
              "registered as (rest-process-[0-9a-f]{10}) in service rest-process at 127\\.0\\.0\\.1:\\d+",
              Duration.ofSeconds(60));
      backend.awaitLine("sample-backend ready in \\d+ ms", Duration.ofSeconds(10));
      String instanceUrl =
          registry.url("/v1/services/rest-process/instances/" + registered.group(1));
      JsonObject instance = Http.get(instanceUrl).json();
      assertThat(instance.getString("source")).isEqualTo("rest");
      assertThat(instance.containsKey("member")).isFalse();
      // Alive past its 1 s TTL: the heartbeats arrive.
      Instant registeredAt = Instant.parse(instance.getString("registeredAt"));
      Poll.until(
          Duration.ofSeconds(10),
          () ->
              assertThat(Instant.parse(Http.get(instanceUrl).json().getString("lastHeartbeatAt")))
                  .isAfter(registeredAt.plusMillis(1_500)));

      // Seen while the backend drains: with its 1 s TTL and no more heartbeats the registry
      // expires it about a second after the drain began, which can be before the JVM has exited.
      ProcessHandle.of(backend.pid()).orElseThrow().destroy(); // SIGTERM
      Poll.until(
          Duration.ofSeconds(5),
          () -> assertThat(Http.get(instanceUrl).json().getString("status")).isEqualTo("draining"));
      assertThat(backend.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
      assertThat(backend.output())
          .doesNotContain("joined cluster")
          .doesNotContain("lost the registry");
    }
  }
}
