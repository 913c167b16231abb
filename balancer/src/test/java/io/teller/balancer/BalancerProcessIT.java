package io.teller.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import io.teller.common.cluster.ClusterRole;
import io.teller.common.cluster.ClusterTls;
import io.teller.common.cluster.TellerCluster;
import io.teller.common.model.RegistryContract;
import io.teller.common.model.Snapshot;
import io.teller.common.testing.Poll;
import io.teller.common.testing.TellerProcess;
import io.teller.common.testing.TestCa;
import io.teller.common.testing.TestClusters;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The balancer jar as a process, joining a real data member as a lite member. */
@Timeout(180)
class BalancerProcessIT {

  @TempDir Path dir;

  @Test
  void waitsForARegistryThenJoinsAsALiteMember() throws Exception {
    try (TestClusters clusters = new TestClusters("balancer-it")) {
      int adminPort = TestClusters.freePort();
      Map<String, String> env = new HashMap<>();
      env.put("TELLER_CLUSTER_NAME", clusters.name());
      env.put("TELLER_CLUSTER_MEMBERS", String.join(",", clusters.members()));
      env.put("TELLER_CLUSTER_PORT", String.valueOf(TestClusters.freePort()));
      env.put("TELLER_ADMIN_PORT", String.valueOf(adminPort));
      env.put("TELLER_HTTPS_PORT", String.valueOf(TestClusters.freePort()));
      env.put("TELLER_HTTP_PORT", String.valueOf(TestClusters.freePort()));
      env.put("TELLER_LISTEN_HOST", "127.0.0.1");
      env.put("TELLER_DATA_DIR", dir.toString());
      try (TellerProcess balancer = TellerProcess.start(TellerProcess.moduleJar(), env)) {
        balancer.awaitLine(
            "no registry node \\(data member\\) in cluster '" + clusters.name() + "' yet; waiting",
            Duration.ofSeconds(60));

        TellerCluster registry = clusters.start(ClusterRole.DATA);
        balancer.awaitLine(
            "joined cluster '" + clusters.name() + "' as lite member", Duration.ofSeconds(60));
        balancer.awaitLine(
            "balancer admin listening on http://127.0.0.1:" + adminPort + "/healthz",
            Duration.ofSeconds(30));
        assertThat(registry.memberCount()).isEqualTo(2);
        assertThat(registry.hazelcast().getCluster().getMembers())
            .filteredOn(m -> m.isLiteMember())
            .hasSize(1);

        HttpResponse<String> health =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/healthz"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        // A data member without the registry verticle: joined, but no registry snapshot to serve
        // from.
        assertThat(health.statusCode()).isEqualTo(503);
        assertThat(health.body()).contains("\"members\":2").contains("WAITING_FOR_REGISTRY");
        // The cluster's name is all Hazelcast asks of a member that joins: /healthz keeps it.
        assertThat(health.body()).doesNotContain(clusters.name());
        balancer.awaitLine(
            "TLS: generated a self-signed certificate for localhost", Duration.ofSeconds(5));

        // A clean stop is seen at once by the registry.
        assertThat(balancer.terminate(Duration.ofSeconds(30))).isPresent();
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (registry.memberCount() != 1 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(registry.memberCount()).isEqualTo(1);
      }
    }
  }

  /**
   * {@code TELLER_CLUSTER_TLS_*} from the environment reach the event bus: the balancer's snapshot
   * request and its reply cross TLS connections with certificates from a CA made here.
   */
  @Test
  void talksToTheRegistryOverTheEventBusWithTlsFromTheEnvironment() throws Exception {
    TestCa ca = TestCa.create(dir.resolve("ca"));
    try (TestClusters clusters = new TestClusters("balancer-tls-it")) {
      TellerCluster registry =
          clusters.start(clusters.options(ClusterRole.DATA).withTls(ca.member("registry")));
      // The registry's side of the balancer's first request, and nothing more.
      registry
          .vertx()
          .eventBus()
          .<JsonObject>consumer(
              RegistryContract.SNAPSHOT,
              m -> m.reply(new Snapshot(0, List.of(), List.of()).toJson()))
          .completion()
          .toCompletionStage()
          .toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      ClusterTls tls = ca.member("balancer");
      int adminPort = TestClusters.freePort();
      Map<String, String> env = new HashMap<>();
      env.put("TELLER_CLUSTER_NAME", clusters.name());
      env.put("TELLER_CLUSTER_MEMBERS", String.join(",", clusters.members()));
      env.put("TELLER_CLUSTER_PORT", String.valueOf(TestClusters.freePort()));
      env.put("TELLER_CLUSTER_TLS_CERT", tls.cert().toString());
      env.put("TELLER_CLUSTER_TLS_KEY", tls.key().toString());
      env.put("TELLER_CLUSTER_TLS_CA", tls.ca().toString());
      env.put("TELLER_ADMIN_PORT", String.valueOf(adminPort));
      env.put("TELLER_HTTPS_PORT", String.valueOf(TestClusters.freePort()));
      env.put("TELLER_HTTP_PORT", String.valueOf(TestClusters.freePort()));
      env.put("TELLER_LISTEN_HOST", "127.0.0.1");
      env.put("TELLER_DATA_DIR", dir.resolve("balancer").toString());
      try (TellerProcess balancer = TellerProcess.start(TellerProcess.moduleJar(), env)) {
        balancer.awaitLine(
            "joined cluster '"
                + clusters.name()
                + "' as lite member .*; event bus over TLS, client certificates required",
            Duration.ofSeconds(60));
        balancer.awaitLine("balancer ready", Duration.ofSeconds(60));
        HttpClient http = HttpClient.newHttpClient();
        Poll.until(
            Duration.ofSeconds(20),
            () ->
                assertThat(
                        http.send(
                                HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + adminPort + "/healthz"))
                                    .build(),
                                HttpResponse.BodyHandlers.ofString())
                            .statusCode())
                    .isEqualTo(200));
      }
    }
  }

  @Test
  void aClusterCertificateWithoutItsKeyAndCaIsAConfigurationMistake() throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("TELLER_CLUSTER_TLS_CERT", dir.resolve("node.pem").toString());
    env.put("TELLER_DATA_DIR", dir.toString());
    try (TellerProcess balancer = TellerProcess.start(TellerProcess.moduleJar(), env)) {
      assertThat(balancer.awaitExit(Duration.ofSeconds(60))).isEqualTo(2);
      assertThat(balancer.output())
          .contains(
              "balancer: bad configuration: TELLER_CLUSTER_TLS_KEY (cluster.tls.key) and"
                  + " TELLER_CLUSTER_TLS_CA (cluster.tls.ca) are not set")
          .doesNotContain("Exception");
    }
  }
}
